import { Webhook } from 'standardwebhooks';
import { dossierCode, getJson, paymentCompleted, post, statusChanged, submitted } from './events.js';
import { signedHeaders, type ReceivedDelivery, type WebhookReceiver } from './webhook-receiver.js';

/** What the checks need of a logged event (the read API's `GET /v1/events`). */
export interface LoggedEvent {
  position: number;
  stream: string;
  streamVersion: number;
  recordedAt: string;
}

/** The whole log, page by page. */
export async function readLog(url: string, token: string): Promise<LoggedEvent[]> {
  const all: LoggedEvent[] = [];
  for (let after = 0; ;) {
    const page = await getJson(`${url}/v1/events?after=${after}&limit=1000`, token);
    if (page.status !== 200) throw new Error(`GET /v1/events answered ${page.status}`);
    const events = page.body.events as LoggedEvent[];
    if (events.length === 0) return all;
    all.push(...events);
    after = page.body.next as number;
  }
}

/** Creates a filter-less webhook to `url` through `hubUrl`; returns its id and secret. */
export async function createWebhook(
  hubUrl: string,
  token: string,
  url: string,
  description: string,
  ratePerSecond = 1000,
): Promise<{ id: string; secret: string }> {
  const res = await fetch(`${hubUrl}/v1/webhooks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ url, description, ratePerSecond }),
  });
  const body = (await res.json()) as { webhook: { id: string }; secret: string };
  if (res.status !== 201)
    throw new Error(`POST /v1/webhooks answered ${res.status}: ${JSON.stringify(body)}`);
  return { id: body.webhook.id, secret: body.secret };
}

/**
 * Makes `receiver` verify each delivery's signature with the `standardwebhooks` library as it arrives
 * (its timestamp tolerance is measured against the arrival), answering 204 either way; the returned
 * counter holds the deliveries that did not verify.
 */
export function verifyOnArrival(receiver: WebhookReceiver, secret: string): { failures: number } {
  const wh = new Webhook(secret);
  const counter = { failures: 0 };
  receiver.respond = (d) => {
    try {
      wh.verify(d.body, signedHeaders({ ...d, answered: 0 }));
    } catch {
      counter.failures += 1;
    }
    return 204;
  };
  return counter;
}

/**
 * One dossier's lifecycle as a commune's one-stop shop sends it: submitted, two to four status
 * changes, and a payment for about half of them.
 */
export function lifecycle(): Record<string, unknown>[] {
  const code = dossierCode();
  const statuses = [2, 4, 6, 9].slice(0, 2 + Math.floor(Math.random() * 3));
  const events = [submitted(code), ...statuses.map((s) => statusChanged(code, s))];
  if (Math.random() < 0.5) events.splice(2, 0, paymentCompleted(code, 50_000));
  return events;
}

/**
 * POSTs a lifecycle's events one after the other (each acknowledged before the next is sent); a 429
 * (the client's rate limit) is waited out as Retry-After says and the same event sent again, as a
 * commune system does.
 */
export async function postLifecycle(
  url: string,
  token: string,
  events: Record<string, unknown>[],
): Promise<void> {
  for (const e of events) {
    for (;;) {
      const res = await fetch(`${url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${token}` },
        body: JSON.stringify(e),
      });
      const text = await res.text();
      if (res.status === 201) break;
      if (res.status === 429) {
        await sleep(1000 * Number(res.headers.get('retry-after') ?? 1));
        continue;
      }
      throw new Error(`POST /v1/events answered ${res.status}: ${text}`);
    }
  }
}

/** How a receiver's deliveries line up with the log. */
export interface DeliveryAudit {
  /** Positions of the log never acknowledged. */
  missing: number[];
  /** Positions acknowledged that the log does not hold. */
  unknown: number[];
  /** Deliveries of a dossier's event sent before its previous event was acknowledged. */
  outOfOrder: string[];
  /** Deliveries (any answer) of a position already acknowledged. */
  repeatsAfterAck: number;
  /** When each of those arrived. */
  repeatTimes: number[];
  /** Positions acknowledged more than once. */
  positionsAckedTwice: number[];
  /** Positions whose deliveries carried more than one `webhook-id`. */
  idsPerPositionAbove1: number[];
  /** `webhook-id`s carried by more than one position. */
  idsSharedByPositions: string[];
  /** The first acknowledgement of each position: when it arrived. */
  firstAck: Map<number, number>;
}

/**
 * Checks a receiver's deliveries, in arrival order, against the log: each position acknowledged, a
 * dossier's event version v sent only once v − 1 was acknowledged, one `webhook-id` per position.
 */
export function auditDeliveries(
  log: readonly LoggedEvent[],
  received: readonly ReceivedDelivery[],
): DeliveryAudit {
  const ackedThrough = new Map<string, number>();
  const firstAck = new Map<number, number>();
  const ackCount = new Map<number, number>();
  const ids = new Map<number, Set<string>>();
  const positionsOfId = new Map<string, Set<number>>();
  const outOfOrder: string[] = [];
  const repeatTimes: number[] = [];
  for (const d of received) {
    const { lgspposition: position, lgspstream: stream, lgspstreamversion: version } = d.event;
    const through = ackedThrough.get(stream) ?? 0;
    if (version > through + 1)
      outOfOrder.push(
        `${stream} v${version} sent when only v${through} was acknowledged (position ${position})`,
      );
    if (firstAck.has(position)) repeatTimes.push(d.at);
    (ids.get(position) ?? ids.set(position, new Set()).get(position)!).add(d.id);
    (positionsOfId.get(d.id) ?? positionsOfId.set(d.id, new Set()).get(d.id)!).add(position);
    if (d.answered < 200 || d.answered >= 300) continue;
    ackCount.set(position, (ackCount.get(position) ?? 0) + 1);
    if (!firstAck.has(position)) firstAck.set(position, d.at);
    if (version > through) ackedThrough.set(stream, version);
  }
  const logged = new Set(log.map((e) => e.position));
  return {
    missing: log.filter((e) => !firstAck.has(e.position)).map((e) => e.position),
    unknown: [...firstAck.keys()].filter((p) => !logged.has(p)),
    outOfOrder,
    repeatsAfterAck: repeatTimes.length,
    repeatTimes,
    positionsAckedTwice: [...ackCount].filter(([, n]) => n > 1).map(([p]) => p),
    idsPerPositionAbove1: [...ids].filter(([, s]) => s.size > 1).map(([p]) => p),
    idsSharedByPositions: [...positionsOfId].filter(([, s]) => s.size > 1).map(([id]) => id),
    firstAck,
  };
}

/** A try of a delivery as the attempts log (`GET /v1/webhooks/{id}/attempts`) shows it. */
export interface Attempt {
  seq: number;
  position: number;
  messageId: string;
  attempt: number;
  outcome: string;
}

/** Every try logged for a webhook, page by page. */
export async function allAttempts(hubUrl: string, token: string, webhookId: string): Promise<Attempt[]> {
  const all: Attempt[] = [];
  for (let after = 0; ;) {
    const page = await getJson(
      `${hubUrl}/v1/webhooks/${webhookId}/attempts?limit=1000&after=${after}`,
      token,
    );
    if (page.status !== 200)
      throw new Error(`attempts answered ${page.status}: ${JSON.stringify(page.body)}`);
    const attempts = page.body.attempts as Attempt[];
    all.push(...attempts);
    if (page.body.next === undefined || attempts.length === 0) return all;
    after = page.body.next as number;
  }
}

/** Distinct positions a receiver acknowledged so far. */
export function acknowledgedPositions(receiver: WebhookReceiver): Set<number> {
  return new Set(receiver.acknowledged.map((d) => d.event.lgspposition));
}

/** The p-th percentile (0–100) of `values`, nearest rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/**
 * `writers` connections, each posting lifecycles (see {@link lifecycle}) one event after the other until
 * `until` (epoch ms): the ids answered 201 go into `acknowledged`; a refusal is noted in `refused` and
 * ends that lifecycle (its later events would be refused as out of order).
 */
export async function postLifecycles(
  url: string,
  token: string,
  writers: number,
  until: number,
  acknowledged: Set<string>,
  refused: string[],
): Promise<void> {
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (Date.now() < until) {
        for (const e of lifecycle()) {
          const r = await post(url, token, e);
          if (r.status !== 201) {
            refused.push(`${r.status} ${JSON.stringify(r.body)}`);
            break;
          }
          acknowledged.add(e.id as string);
        }
      }
    }),
  );
}
