/**
 * kafkajs 2.2.4's request queue, mended. After each answer it schedules a check of its pending
 * requests, even when none is pending and no throttle is in effect, with a delay of
 * `throttledUntil - Date.now()`, that is `-1 - Date.now()`: Node runs it after 1 ms, and the check
 * schedules the next one. Every broker connection of every producer, consumer and admin client then
 * wakes the event loop about 900 times a second for as long as it lives (4–5% of a core each, measured
 * on a queue alone), and Node 24 prints a `TimeoutNegativeWarning` on stderr. Upstream:
 * tulios/kafkajs#1751, open, with fixes proposed in #1755 and #1768 and none released.
 *
 * The mend skips that schedule when nothing is pending and no throttle is in effect, the case where the
 * check has nothing to do: a push, an answer and a timeout check the queue themselves, a pending request
 * still gets its periodic check, and a throttle still schedules the check at its end.
 */
import { createRequire } from 'node:module';

/** What the mend reads of a request queue (kafkajs's own fields). */
interface RequestQueueState {
  pending: unknown[];
  throttledUntil: number;
}

interface RequestQueuePrototype {
  scheduleCheckPendingRequests(this: RequestQueueState): void;
  [MENDED]?: true;
}

const MENDED = Symbol.for('lgsp.kafka.requestQueueMended');

/** kafkajs's RequestQueue class, the very module its connections use (Node's CommonJS cache). */
export function kafkajsRequestQueue(): { prototype: RequestQueuePrototype } {
  const require = createRequire(import.meta.url);
  return require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueuePrototype };
}

/**
 * Mends kafkajs's request queue (see the file's comment), once per process; false when its
 * `scheduleCheckPendingRequests` is not there to mend (another kafkajs version: the unit test of this
 * file then says whether the timer loop is still there).
 */
export function mendRequestQueue(): boolean {
  const prototype = kafkajsRequestQueue().prototype;
  if (prototype[MENDED]) return true;
  const schedule = prototype.scheduleCheckPendingRequests;
  if (typeof schedule !== 'function') return false;
  prototype.scheduleCheckPendingRequests = function (this: RequestQueueState): void {
    if (this.pending.length === 0 && !(this.throttledUntil > Date.now())) return;
    schedule.call(this);
  };
  prototype[MENDED] = true;
  return true;
}
