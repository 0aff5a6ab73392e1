/**
 * Webhooks: push delivery of the log's events to plain web applications (provinces and ministries that
 * run no Kafka consumer), as signed CloudEvents (Standard Webhooks), in order per dossier, retried for
 * more than a day, parked per dossier when the schedule is spent, and scoped like every other read.
 */

import type { EventVersions } from '#lgsp/contracts';

/** Which events a webhook receives. An absent list matches everything; each given list must match. */
export interface WebhookFilter {
  /** Full CloudEvents types; one names every version of its family (each delivered at `eventVersions`). */
  types?: string[];
  provinces?: string[];
  communes?: string[];
}

export type WebhookState = 'active' | 'disabled';

/** A webhook subscription as stored, secrets included (never given out but at creation and rotation). */
export interface WebhookRecord {
  /** `wh_` and 26 characters. */
  id: string;
  url: string;
  description?: string;
  filter: WebhookFilter;
  /**
   * The version of each event family it receives (`{"dossier.submitted": 2}`): events stored at another
   * version are converted on delivery. A family not named is delivered at version 1.
   */
  eventVersions?: EventVersions;
  ratePerSecond: number;
  state: WebhookState;
  disabledReason?: string;
  /** RFC 3339. */
  disabledAt?: string;
  /** The province that owns it: set when a province client created it (it then sees only that province). */
  province?: string;
  /** The client (name) that created it. */
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  /** `whsec_…`: signs every delivery. */
  secret: string;
  /** The secret before the last rotation; it keeps signing until `previousSecretExpiresAt`. */
  previousSecret?: string;
  previousSecretExpiresAt?: string;
  secretRotatedAt?: string;
  /** The log position through which this webhook's events have been queued for delivery. */
  cursor: number;
  /**
   * Every event of the filter at or before this position was acknowledged, or is kept in the table
   * (a retry, a parking): after a restart the queue is rebuilt from the table and the log after it.
   * It starts at `cursor`.
   */
  deliveredThrough: number;
  /**
   * After a redelivery: the events up to this position, queued again as the cursor passes them once
   * more, carry `redeliverMark` as their `lgspreplay`.
   */
  redeliverThrough?: number;
  /** `redeliver:<client>`: the `lgspreplay` of the last redelivery. */
  redeliverMark?: string;
  /** First failure with no success since (RFC 3339), while the endpoint keeps failing. */
  failingSince?: string;
  /** Increases with every change (settings, state, redelivery, parking resolved): replicas reload on it. */
  revision: number;
}

/** A webhook as the API shows it: no secret, with its delivery progress. */
export interface WebhookView {
  id: string;
  url: string;
  description?: string;
  filter: WebhookFilter;
  /** The version of each family it receives; every family with several versions is named. */
  eventVersions: EventVersions;
  ratePerSecond: number;
  state: WebhookState;
  disabledReason?: string;
  disabledAt?: string;
  province?: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  secretRotatedAt?: string;
  previousSecretExpiresAt?: string;
  /** Every event of the filter at or before this position has been delivered (or parked, or skipped). */
  checkpoint: number;
  lag: { events: number; seconds: number };
  /** Deliveries waiting: queued, in flight or scheduled for a retry. */
  pending: number;
  /** Dossiers parked for this endpoint. */
  parked: number;
  failingSince?: string;
}

export type DeliveryState = 'pending' | 'parked';

/** One event waiting for delivery to one webhook (delivered ones are removed). */
export interface DeliveryRow {
  webhookId: string;
  position: number;
  /** The ordering key: the event's stream (`dossier-<code>` for a dossier). */
  stream: string;
  /** The event's recording time (RFC 3339), for the lag. */
  recordedAt: string;
  state: DeliveryState;
  /** Failed attempts so far. */
  attempts: number;
  /** When the next attempt is due (epoch ms). */
  nextAt: number;
  /** Marks a redelivery or a replay: its id (`redeliver:<client>` or the replay's id). */
  replay?: string;
}

/**
 * What a requeue (a replay) queued for one webhook: the rows it inserted, pending and untried (a row
 * already waiting for the same event is left as it is, and not among them), and the webhook's revision
 * after it.
 */
export interface RequeuedDeliveries {
  webhookId: string;
  rows: DeliveryRow[];
  revision: number;
  /**
   * The rows asked for that the table held already: a delivery of the same event waiting, or one just
   * made whose row's removal is not written yet (the delivery queues those again).
   */
  waiting?: DeliveryRow[];
}

export type AttemptOutcome = 'delivered' | 'retry' | 'parked' | 'disabled';

/** One try of one delivery, as the attempts log keeps it. */
export interface DeliveryAttempt {
  /** Increasing; the cursor of the attempts log. */
  seq: number;
  webhookId: string;
  position: number;
  /** The `webhook-id` header: the same for every try of one event to one webhook. */
  messageId: string;
  /** 1 for the first try. */
  attempt: number;
  /** RFC 3339: when the try started. */
  at: string;
  /** The HTTP status, absent when no answer came (refused, timed out). */
  status?: number;
  durationMs: number;
  /** The first KiB of the answer's body. */
  response?: string;
  error?: string;
  outcome: AttemptOutcome;
  /** For `retry`: when the next try is due (RFC 3339). */
  nextAt?: string;
}

/**
 * How the attempts log keeps receivers' answers, which may quote the personal data they were sent: the
 * hub seals each as a working copy of the delivered event's dossier (stream), and opens them on read.
 */
export interface ResponseSealing {
  seal(items: readonly { stream: string; response: string }[]): Promise<string[]>;
  /** Each stored response in clear (or as erased); a response stored in clear is returned as it is. */
  open(responses: readonly string[]): Promise<string[]>;
}

/** The component the webhook tables are versioned under in `schema_version`. */
export const WEBHOOKS_COMPONENT = 'webhooks';

/** The parking target of a webhook (`webhook:<id>`), as parkings and replays name it. */
export const webhookTarget = (id: string): string => `webhook:${id}`;
export const WEBHOOK_TARGET_PREFIX = 'webhook:';

/** The dossier a stream holds (`dossier-<code>`), or the stream itself for any other stream. */
export function dossierOfStream(stream: string): string {
  return stream.startsWith('dossier-') ? stream.slice('dossier-'.length) : stream;
}
