import type { EventStore, StoredEvent } from '#lgsp/event-store';
import type { ReplaySendResult, ReplayTarget } from '#lgsp/replay';
import { matchesFilter } from './filter.js';
import { WEBHOOK_TARGET_PREFIX, webhookTarget, type WebhookRecord } from './model.js';
import type { SqlWebhookStore } from './sql-webhook-store.js';
import type { DeliveryRow, RequeuedDeliveries } from './model.js';

/**
 * Told what a replay queued (the delivery in this process takes it in: `WebhookDelivery.requeued`);
 * without it, only that something changed.
 */
export type WebhookReplayListener = (requeued?: RequeuedDeliveries) => void;

/** Events queued per batch of a replay. */
const REPLAY_BATCH = 200;

/**
 * The replay target of one webhook (`webhook:<id>`): each selected event is queued again for that
 * webhook only, marked `lgspreplay: <replay id>`, and delivered like any other (in order per dossier,
 * retried, signed, with the same `webhook-id` as its first delivery). `accepts` is the webhook's
 * filter (and its province), so a replay never sends a webhook more than it subscribed to.
 */
export class WebhookReplayTarget implements ReplayTarget {
  readonly name: string;
  readonly unit = 'event' as const;
  readonly callsPerItem = 1;
  readonly batchSize = REPLAY_BATCH;
  readonly ratePerSecond: number;

  constructor(
    private readonly webhook: WebhookRecord,
    private readonly store: SqlWebhookStore,
    private readonly events: Pick<EventStore, 'readAll'>,
    private readonly changed: WebhookReplayListener,
  ) {
    this.name = webhookTarget(webhook.id);
    this.ratePerSecond = webhook.ratePerSecond;
  }

  accepts(event: StoredEvent): boolean {
    return matchesFilter(this.webhook, event);
  }

  async send(item: string, replayId: string, signal?: AbortSignal): Promise<ReplaySendResult> {
    const [result] = await this.sendBatch([item], replayId, signal);
    return result ?? 'failed';
  }

  async sendBatch(
    items: readonly string[],
    replayId: string,
    signal?: AbortSignal,
  ): Promise<ReplaySendResult[]> {
    const positions = items.map((item) => (/^[1-9][0-9]{0,15}$/.test(item) ? Number(item) : NaN));
    const found = await readPositions(this.events, positions, signal);
    const rows: Omit<DeliveryRow, 'state' | 'attempts'>[] = [];
    const results = positions.map((p): ReplaySendResult => {
      const e = found.get(p);
      if (e === undefined || !this.accepts(e)) return 'failed';
      rows.push({
        webhookId: this.webhook.id,
        position: e.position,
        stream: e.stream,
        recordedAt: e.recordedAt,
        nextAt: 0,
        replay: replayId,
      });
      return 'sent';
    });
    if (rows.length > 0) {
      // Queued twice (already waiting) is queued once: the waiting delivery goes out in its turn. One the
      // table held only because its delivery's removal was not written yet is queued again by the
      // delivery (`WebhookDelivery.requeued`).
      this.changed(await this.store.requeue(this.webhook.id, rows));
    }
    return results;
  }
}

/** The replay target a name designates: `webhook:<id>` of an existing webhook, else undefined. */
export async function resolveWebhookReplayTarget(
  name: string,
  store: SqlWebhookStore,
  events: Pick<EventStore, 'readAll'>,
  changed: WebhookReplayListener,
): Promise<WebhookReplayTarget | undefined> {
  if (!name.startsWith(WEBHOOK_TARGET_PREFIX)) return undefined;
  const id = name.slice(WEBHOOK_TARGET_PREFIX.length);
  if (!/^wh_[0-9a-z]{26}$/.test(id)) return undefined;
  const webhook = await store.get(id);
  return webhook === undefined ? undefined : new WebhookReplayTarget(webhook, store, events, changed);
}

/** The events at these positions, read in contiguous stretches of the log. */
async function readPositions(
  events: Pick<EventStore, 'readAll'>,
  positions: readonly number[],
  signal: AbortSignal | undefined,
): Promise<Map<number, StoredEvent>> {
  const wanted = [...new Set(positions.filter((p) => Number.isSafeInteger(p)))].sort((a, b) => a - b);
  const found = new Map<number, StoredEvent>();
  let i = 0;
  while (i < wanted.length) {
    signal?.throwIfAborted();
    const first = wanted[i]!;
    let j = i;
    while (j + 1 < wanted.length && wanted[j + 1]! - first < 1000) j++;
    const last = wanted[j]!;
    const page = await events.readAll({ after: first - 1, limit: last - first + 1 });
    for (const e of page) found.set(e.position, e);
    i = j + 1;
  }
  return found;
}
