import type { CloudEvent } from '#lgsp/contracts';
import type { AppendResult } from '#lgsp/event-store';
import { isPlaced, type IngestService } from '#lgsp/ingest';
import type { Client } from '#lgsp/security';

/**
 * Where inbound capture puts the facts it turns into events: the hub's own ingest (NFC, schema
 * validation, deduplication on (source, id), atomic append). Captured events carry the external
 * system as `source` and an `id` derived from the external fact (a transaction id, a registration
 * code and its status…), so capturing the same fact twice appends nothing the second time.
 *
 * Throws DomainError `invalid` for events the schemas refuse, StoreUnavailableError when the store
 * cannot take them (retry later).
 */
export interface EventSink {
  append(events: readonly CloudEvent[]): Promise<AppendResult[]>;
}

/** The sink of the hub: its ingest use case, acting as one client (an admin, so every province). */
export class IngestSink implements EventSink {
  constructor(
    private readonly ingest: Pick<IngestService, 'ingest'>,
    private readonly client: Client,
  ) {}

  async append(events: readonly CloudEvent[]): Promise<AppendResult[]> {
    if (events.length === 0) return [];
    const { results } = await this.ingest.ingest(this.client, events, false);
    return results.map((r) => {
      // Only a client with a limited scope gets an answer without the place.
      if (!isPlaced(r)) throw new Error(`capture client ${this.client.name} must be an admin`);
      return r;
    });
  }
}

/** The client inbound capture appends as: an admin named after the connector, for the audit trail. */
export function captureClient(name: string, createdAt = new Date().toISOString()): Client {
  return { id: `system:${name}`, name, role: 'admin', communeCodes: [], sources: [], createdAt };
}
