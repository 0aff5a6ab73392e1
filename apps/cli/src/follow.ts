import { ApiError } from './api.js';
import type { Ctx } from './command.js';
import { isInterruption, nowOf, sleep } from './io.js';
import { ProgressLine } from './progress.js';

/** The first poll of a run not finished yet; each next one waits twice as long, up to `pollMs`. */
const FIRST_POLL_MS = 25;

/** How long a followed run may go without an answer from the hub (a restart) before the CLI gives up. */
const UNREACHABLE_GRACE_MS = 60_000;

export interface Followed<T> {
  /** The last state read; `interrupted` when the operator pressed Ctrl-C first. */
  last: T;
  interrupted: boolean;
}

/**
 * Polls a run until `finished` says so (not at all when it is finished already), drawing its progress
 * on stderr. The hub may restart under a
 * long run (a replay resumes by itself): unreachable polls are retried for a minute before giving up.
 * A problem answer (e.g. the run is gone) ends the wait at once.
 */
export async function follow<T>(
  ctx: Ctx,
  first: T,
  read: () => Promise<T>,
  finished: (t: T) => boolean,
  render: (t: T) => { done: number; total: number; text: string },
): Promise<Followed<T>> {
  const progress = new ProgressLine(ctx.io);
  const now = nowOf(ctx.io);
  let last = first;
  let unreachableSince: number | undefined;
  const draw = (note = '') => {
    const { done, total, text } = render(last);
    progress.update(done, total, `${text}${note}`);
  };
  try {
    draw();
    // A run done already is answered at once; a short one is seen ending within a few tens of ms, and
    // a long one is polled every pollMs.
    for (let polls = 0; !finished(last); polls++) {
      await sleep(Math.min(ctx.io.pollMs ?? 1000, FIRST_POLL_MS * 2 ** polls), ctx.io.interrupt);
      try {
        last = await read();
        unreachableSince = undefined;
        draw();
      } catch (e) {
        if (e instanceof ApiError || isInterruption(e, ctx.io.interrupt)) throw e;
        unreachableSince ??= now();
        if (now() - unreachableSince > UNREACHABLE_GRACE_MS) throw e;
        draw(' (hub unreachable, retrying)');
      }
    }
    return { last, interrupted: false };
  } catch (e) {
    if (isInterruption(e, ctx.io.interrupt)) return { last, interrupted: true };
    throw e;
  } finally {
    progress.finish();
  }
}
