import { ApiError } from './api.js';
import { intFlag, query, type Ctx } from './command.js';
import { EXIT, isInterruption, sleep } from './io.js';
import { SseParser } from './sse.js';

interface WireEvent {
  position: number;
  stream: string;
  recordedAt: string;
  event: { type: string; time?: string; subject?: string };
}

/** One line per event: position, time, type, dossier. */
export function tailLine(e: WireEvent): string {
  const dossier = e.stream.startsWith('dossier-')
    ? e.stream.slice('dossier-'.length)
    : (e.event.subject ?? e.stream);
  return `${String(e.position).padStart(8)}  ${e.event.time ?? e.recordedAt}  ${e.event.type}  ${dossier}`;
}

/**
 * `events tail`: follows the log live over server-sent events until Ctrl-C (exit 0). When the hub
 * closes the stream or goes away, it reconnects after the last position it printed, so nothing is
 * printed twice or missed. A problem answer (bad filter, forbidden province) ends it with exit 3.
 */
export async function eventsTail(ctx: Ctx): Promise<number> {
  let after = intFlag(ctx.flags, 'after', 0, Number.MAX_SAFE_INTEGER);
  const { interrupt } = ctx.io;
  let connected = false;
  let backoffMs = 500;
  while (!interrupt.aborted) {
    try {
      const res = await ctx.api.open(
        `/v1/events${query({ after, type: ctx.flags.type, province: ctx.flags.province })}`,
        'text/event-stream',
        interrupt,
      );
      connected = true;
      backoffMs = 500;
      const parser = new SseParser();
      const decoder = new TextDecoder();
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        for (const sse of parser.push(decoder.decode(chunk, { stream: true }))) {
          const e = JSON.parse(sse.data) as WireEvent;
          ctx.io.stdout.write(`${ctx.out.json ? JSON.stringify(e) : tailLine(e)}\n`);
          after = e.position;
        }
      }
      ctx.io.stderr.write(`lgsp: the hub closed the stream; reconnecting after position ${after ?? 0}\n`);
    } catch (e) {
      if (isInterruption(e, interrupt)) break;
      if (e instanceof ApiError || !connected) throw e;
      ctx.io.stderr.write(`lgsp: ${(e as Error).message}; reconnecting\n`);
    }
    try {
      await sleep(backoffMs, interrupt);
    } catch (e) {
      if (isInterruption(e, interrupt)) break;
      throw e;
    }
    backoffMs = Math.min(backoffMs * 2, 10_000);
  }
  return EXIT.ok;
}
