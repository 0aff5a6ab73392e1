import type { DemoHub, DossierSnapshot } from './hub-client.js';
import { STATUS, type AwaitStep } from './planner.js';

/**
 * What an external system decided, as the hub's dossier view shows it; `payment-abandoned`: a
 * payment the citizen abandoned stayed undecided until the payment deadline.
 */
export type ExternalOutcome =
  'paid' | 'payment-failed' | 'payment-abandoned' | 'registry-finished' | 'registry-rejected';

/** What an `await-*` step waits for, in the summary. */
export type WaitingFor = 'payment' | 'civil-registry';

export const waitingFor = (step: AwaitStep): WaitingFor =>
  step.kind === 'await-civil-registry' ? 'civil-registry' : 'payment';

/**
 * The outcome a dossier view shows for a waiting step, or undefined while there is none yet.
 * A view that has not applied the demo's last event (`streamVersion` below `writtenVersion`) shows
 * nothing: its payment state may still be the failure of the previous fee request.
 */
export function externalOutcome(
  step: AwaitStep,
  view: DossierSnapshot,
  writtenVersion: number,
): ExternalOutcome | undefined {
  if (view.streamVersion < writtenVersion) return undefined;
  if (step.kind !== 'await-civil-registry') {
    if (view.payment.state === 'paid') return 'paid';
    if (view.payment.state === 'failed') return 'payment-failed';
    return undefined;
  }
  if (view.status === STATUS.finished) return 'registry-finished';
  if (view.status === STATUS.rejected) return 'registry-rejected';
  return undefined;
}

export type WaitResult =
  | { kind: 'decided'; outcome: ExternalOutcome; view: DossierSnapshot; polls: number; waitedMs: number }
  | {
      kind: 'stalled';
      /** `timeout`: nothing decided within the wait timeout; `interrupted`: the run was stopped. */
      reason: 'timeout' | 'interrupted';
      /** The last view read, if the hub had one. */
      view: DossierSnapshot | undefined;
      polls: number;
      waitedMs: number;
    };

export interface WaitOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** Pause before each read of the view. */
  pollMs: number;
  /** Aborted when the run stops: the wait ends at once as `interrupted`. */
  signal?: AbortSignal;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Polls the hub's view of a dossier until it shows the outcome of `step` or `timeoutMs` has passed.
 * Only timers are awaited between reads, so other lifecycles go on meanwhile. A hub that cannot be
 * reached throws (HubUnavailableError) as an append would.
 */
export async function waitForOutcome(
  hub: Pick<DemoHub, 'dossier'>,
  token: string,
  dossierCode: string,
  step: AwaitStep,
  writtenVersion: number,
  options: WaitOptions,
): Promise<WaitResult> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  let view: DossierSnapshot | undefined;
  let polls = 0;
  for (;;) {
    await pause(Math.max(0, Math.min(options.pollMs, deadline - Date.now())), options.signal);
    if (options.signal?.aborted) {
      return { kind: 'stalled', reason: 'interrupted', view, polls, waitedMs: Date.now() - started };
    }
    view = (await hub.dossier(token, dossierCode)) ?? view;
    polls++;
    const outcome = view === undefined ? undefined : externalOutcome(step, view, writtenVersion);
    if (outcome !== undefined && view !== undefined) {
      return { kind: 'decided', outcome, view, polls, waitedMs: Date.now() - started };
    }
    if (Date.now() >= deadline) {
      return { kind: 'stalled', reason: 'timeout', view, polls, waitedMs: Date.now() - started };
    }
  }
}
