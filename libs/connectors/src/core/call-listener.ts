import type { ConnectorOperation } from '#lgsp/observability';
import type { Clock } from './clock.js';
import { isConnectorError, type ConnectorErrorCode } from './errors.js';

/** One call of a connector to its target, as metrics see it. */
export interface ConnectorCall {
  target: string;
  operation: ConnectorOperation;
  /** `ok`, or the ConnectorError's code. */
  outcome: 'ok' | ConnectorErrorCode;
  seconds: number;
}

/** Told of each call a poller or a capture makes; must not throw. */
export type CallListener = (call: ConnectorCall) => void;

/**
 * Runs `fn`, one call of a poller or a capture to `call.target`, and tells `listener` its outcome and
 * duration, as the TargetGate's `called` does for the syncs. A failure that is not a ConnectorError
 * (the caller's abort, a bug of the hub) is no outcome of the target's: it is thrown on, untold.
 */
export async function observeCall<T>(
  listener: CallListener | undefined,
  call: Pick<ConnectorCall, 'target' | 'operation'>,
  clock: Clock,
  fn: () => Promise<T>,
): Promise<T> {
  if (listener === undefined) return fn();
  const startedAt = clock.now();
  const seconds = () => (clock.now() - startedAt) / 1000;
  let value: T;
  try {
    value = await fn();
  } catch (err) {
    if (isConnectorError(err)) listener({ ...call, outcome: err.code, seconds: seconds() });
    throw err;
  }
  listener({ ...call, outcome: 'ok', seconds: seconds() });
  return value;
}
