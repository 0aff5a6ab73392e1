import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from '#lgsp/observability';

/**
 * The CLI's exit codes, one meaning each, so scripts can branch on them. Written out in `--help`.
 */
export const EXIT = {
  ok: 0,
  /** Bad arguments, or a replay or deletion that needs confirmation with no terminal to ask and no `--yes`. */
  usage: 2,
  /** The hub answered with a problem (bad input, unknown id, a refused state change…). */
  refused: 3,
  /** The hub (or, for migrate and verify, the store) could not be reached. */
  unreachable: 4,
  /** A reconciliation completed and found mismatches. */
  mismatches: 5,
  /** A run ended failed or cancelled, or the operator declined to confirm a replay or deletion (nothing done). */
  incomplete: 6,
  /**
   * `lgsp verify` found the event log's hash chain broken (a record modified, missing or out of order),
   * or a signed checkpoint that does not match it.
   */
  chainBroken: 7,
  /**
   * The mismatches left are ones no replay can fix: records only the target holds (`unexpected-extra`),
   * to capture into the log or acknowledge (`lgsp reconcile capture|acknowledge`). From `reconcile run`
   * and `show` when every open mismatch is such; from `replay plan` and `run` when the plan leaves such
   * findings out.
   */
  unfixable: 8,
  /** Bad configuration (migrate, verify). */
  config: 78,
  /** Ctrl-C while following a run: the run itself goes on in the hub. */
  interrupted: 130,
} as const;

export interface Writer {
  write(text: string): unknown;
}

/** What the CLI touches of its process: injected, so the specs run commands in-process. */
export interface CliIo {
  env: Readonly<Record<string, string | undefined>>;
  stdout: Writer;
  /** Progress and messages; a progress bar only when it is a terminal. */
  stderr: Writer & { isTTY?: boolean; columns?: number };
  /** Asks the operator a question; absent when stdin or stderr is not a terminal. */
  ask?: (question: string) => Promise<string>;
  /** Aborted when the operator presses Ctrl-C. */
  interrupt: AbortSignal;
  readFile(path: string): string;
  /** Writes a file (`--out`); node:fs when absent. */
  writeFile?(path: string, text: string): void;
  /** Between two polls of a running run; default 1000 ms. */
  pollMs?: number;
  /** At most one plain progress line per this many ms when stderr is not a terminal; default 10000. */
  plainProgressMs?: number;
  /** The clock of progress lines and grace periods, for tests. @defaultValue the wall clock */
  clock?: Pick<Clock, 'now'>;
}

/**
 * `io.clock`'s time, else the wall clock (what systemClock reads: the CLI imports no library at start,
 * only once a command needs it, so it does not import systemClock for the default).
 */
export function nowOf(io: Pick<CliIo, 'clock'>): () => number {
  const clock = io.clock;
  return clock ? () => clock.now() : Date.now;
}

/** Bad arguments: exit 2 with the message and a pointer to `--help`. */
export class UsageError extends Error {}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (e) {
    throw signal.aborted ? (signal.reason ?? e) : e;
  }
}

/** Whether `e` is the CLI's own interruption (Ctrl-C), however the aborted call reported it. */
export function isInterruption(e: unknown, signal: AbortSignal): boolean {
  return signal.aborted && (e === signal.reason || (e as { name?: unknown })?.name === 'AbortError');
}
