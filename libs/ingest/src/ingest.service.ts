import {
  CORE_ATTRIBUTES,
  DomainError,
  EXPECTED_VERSION_ATTRIBUTE,
  expectedVersionOf,
  normalizeNfc,
  streamOf,
  type CloudEvent,
  type EventValidator,
} from '#lgsp/contracts';
import {
  ANY_VERSION,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type Extensions,
} from '#lgsp/event-store';
import { assertIngestScope, type Client } from '#lgsp/security';

export interface IngestOutcome {
  /** 201 when at least one event was appended, 200 when every event was already stored. */
  status: 201 | 200;
  results: AppendResult[];
}

/** What ingest reports to metrics; kept as an interface so the use case knows no metrics library. */
export interface IngestObserver {
  appended(type: string, seconds: number): void;
  duplicate(type: string): void;
  rejected(type: string, code: string): void;
}

/**
 * The ingest use case, shared by every transport (HTTP now, Kafka ingest later): normalise to NFC,
 * validate against the schemas, check the client's scope, then append atomically. Deduplication on
 * (source, id) and the expected-version check happen inside the store's append, in the same commit.
 */
export class IngestService {
  constructor(
    private readonly store: EventStore,
    private readonly validator: EventValidator,
    private readonly observer?: IngestObserver,
  ) {}

  /**
   * @param single true when the request carried one event (structured or binary mode): error
   *   pointers then start at the event, not at a batch index.
   */
  async ingest(client: Client, received: readonly CloudEvent[], single: boolean): Promise<IngestOutcome> {
    // NFC first, so that length limits and scope checks see the text as it will be stored.
    const events = received.map((e) => normalizeNfc(e));
    try {
      const issues = this.validator.validate(events, { single });
      if (issues.length > 0) {
        throw new DomainError('invalid', `${issues.length} schema violation(s)`, issues);
      }
      assertIngestScope(client, events, single);
    } catch (e) {
      if (e instanceof DomainError) for (const ev of events) this.observer?.rejected(String(ev.type), e.code);
      throw e;
    }

    const started = performance.now();
    const results = await this.store.append(events.map(toAppend));
    const seconds = (performance.now() - started) / 1000;
    let appended = 0;
    results.forEach((r, i) => {
      const type = String(events[i]?.type);
      if (r.duplicate) this.observer?.duplicate(type);
      else {
        appended++;
        this.observer?.appended(type, seconds);
      }
    });
    return { status: appended > 0 ? 201 : 200, results };
  }
}

function toAppend(event: CloudEvent): EventToAppend {
  const data = event.data as { provinceCode?: string; communeCode?: string };
  const extensions: Extensions = {};
  for (const [name, value] of Object.entries(event)) {
    if (CORE_ATTRIBUTES.has(name) || name === EXPECTED_VERSION_ATTRIBUTE) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      extensions[name] = value;
    }
  }
  const expected = expectedVersionOf(event);
  return {
    stream: streamOf(event),
    expectedVersion: expected ?? ANY_VERSION,
    id: event.id,
    source: event.source,
    type: event.type,
    ...(event.time !== undefined ? { time: event.time } : {}),
    ...(event.subject !== undefined ? { subject: event.subject } : {}),
    ...(event.datacontenttype !== undefined ? { datacontenttype: event.datacontenttype } : {}),
    ...(event.dataschema !== undefined ? { dataschema: event.dataschema } : {}),
    data: event.data,
    extensions,
    ...(data.provinceCode !== undefined ? { provinceCode: data.provinceCode } : {}),
    ...(data.communeCode !== undefined ? { communeCode: data.communeCode } : {}),
  };
}
