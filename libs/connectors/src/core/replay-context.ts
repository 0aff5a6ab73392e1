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

/** The replay header for the current call, to spread into a request's headers. */
export function replayHeaders(): Record<string, string> {
  const id = current.getStore();
  return id === undefined ? {} : { [REPLAY_HEADER]: id };
}
