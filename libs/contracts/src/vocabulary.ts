import { CORE_ATTRIBUTES, EXPECTED_VERSION_ATTRIBUTE } from './cloudevent.js';
import { EventSchemas } from './schemas.js';

/** Extension attributes the hub knows by name: optimistic concurrency and W3C distributed tracing. */
const KNOWN_EXTENSIONS = [EXPECTED_VERSION_ATTRIBUTE, 'traceparent', 'tracestate'];

let contractNames: ReadonlySet<string> | undefined;

/**
 * Whether `name` is defined by the hub's contracts — a CloudEvents attribute, a known extension, a
 * property of a catalogue schema — rather than chosen by whoever sent the input. A member name outside
 * the contracts may be anything, a citizen's name included: logs mask it.
 */
export function isContractName(name: string): boolean {
  contractNames ??= new Set([
    ...CORE_ATTRIBUTES,
    ...KNOWN_EXTENSIONS,
    ...EventSchemas.shared().propertyNames(),
  ]);
  return contractNames.has(name);
}
