import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The HTTP header that marks a call as part of an operator's replay, with the replay's id as its
 * value, so the receiving system (and its operators) can tell a replayed delivery from live traffic.
 */
export const REPLAY_HEADER = 'x-lgsp-replay';

const current = new AsyncLocalStorage<string>();

/**
 * Runs `fn` as part of replay `replayId`: every call a connector client makes inside it (however deep,
 * across awaits) carries {@link REPLAY_HEADER}. Live deliveries, outside any replay, carry none.
 */
export function withReplay<T>(replayId: string, fn: () => Promise<T>): Promise<T> {
  return current.run(replayId, fn);
}

/** The replay the current call belongs to, if any. */
export function currentReplay(): string | undefined {
  return current.getStore();
}

/**
 * The CloudEvents extension that marks an event a connector appended because of an operator's replay
 * (a certificate the civil registry issued again, a payment callback), with the replay's id as value.
 */
export const CAUSED_BY_REPLAY = 'causedbyreplay';

/** `event` marked as caused by `replay` (unchanged when there is none). */
export function markCausedByReplay<T extends object>(event: T, replay: string | undefined): T {
  return replay === undefined ? event : { ...event, [CAUSED_BY_REPLAY]: replay };
}

/** The current replay, as a pending item's `replay` field (absent outside a replay). */
export function replayOfWork(): { replay?: string } {
  const id = current.getStore();
  return id === undefined ? {} : { replay: id };
}

/** The replay header for the current call, to spread into a request's headers. */
export function replayHeaders(): Record<string, string> {
  const id = current.getStore();
  return id === undefined ? {} : { [REPLAY_HEADER]: id };
}
