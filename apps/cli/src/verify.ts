import { join } from 'node:path';
import type { ChainRecord, ChainSource, ChainVerdict } from '#lgsp/event-store';
import type { Ctx } from './command.js';
import { loadHubConfig } from './hub-config.js';
import { EXIT, nowOf, UsageError, type CliIo } from './io.js';
import { ProgressLine, formatCount, percent } from './progress.js';

/** Progress shows only for a walk that takes longer than this (a large store). */
const QUIET_MS = 1000;

/**
 * `lgsp verify`: recomputes the hash chain of the whole log, read straight from the store (or a copy
 * of it), and names the first position that is modified, missing or out of order. Exit 0 when the
 * chain holds, 7 when it is broken, 4 when the store cannot be read.
 */
export async function verify(ctx: Ctx): Promise<number> {
  const { io, out } = ctx;
  if (ctx.args.length > 0) throw new UsageError(`verify takes no arguments, got ${ctx.args.join(' ')}`);
  const source = await openSource(ctx);
  let verdict: ChainVerdict;
  try {
    const total = await source.head();
    const { verifyRecords } = await import('#lgsp/event-store');
    verdict = await verifyRecords(withProgress(source.records(), total, io));
  } finally {
    await source.close();
  }
  if (verdict.ok) {
    out.print(`chain holds: ${verdict.events} events, head hash ${verdict.head.hash}`, {
      ok: true,
      store: source.name,
      events: verdict.events,
      head: verdict.head,
    });
    return EXIT.ok;
  }
  const { position, kind, reason, foundAt } = verdict.break;
  out.print(
    `chain broken at position ${position}: ${kind.replace(/-/g, ' ')} (${reason})\n` +
      `${verdict.events} events before it verified`,
    { ok: false, store: source.name, events: verdict.events, break: { position, kind, reason, foundAt } },
  );
  return EXIT.chainBroken;
}

/** The store to read: `--file`, or the hub's configured store (with --store, --schema, --data-dir). */
async function openSource(ctx: Ctx): Promise<ChainSource> {
  const { flags, io } = ctx;
  const { openPostgresChainSource } = await import('#lgsp/event-store/postgres');
  const { openSqliteChainSource } = await import('#lgsp/event-store/sqlite');
  if (flags.file !== undefined) {
    if (flags['data-dir'] !== undefined || flags.schema !== undefined)
      throw new UsageError('verify --file reads that file: it takes no --data-dir or --schema');
    if (flags.store !== undefined && flags.store !== 'sqlite')
      throw new UsageError(
        'verify --file reads a copy of an SQLite events.db: --store must be sqlite or absent',
      );
    return openSqliteChainSource(flags.file);
  }
  const config = await loadHubConfig(io.env, {
    store: flags.store,
    schema: flags.schema,
    dataDir: flags['data-dir'],
  });
  if (config.store === 'sqlite') {
    if (flags.schema !== undefined) throw new UsageError('--schema is for a PostgreSQL store');
    // The embedded store's file, as the hub names it (libs/hub-storage).
    return openSqliteChainSource(join(config.dataDir, 'events.db'));
  }
  if (flags['data-dir'] !== undefined) throw new UsageError('--data-dir is for the sqlite store');
  return openPostgresChainSource({ connectionString: config.store, schema: config.postgres.schema });
}

/** Passes the records through, drawing progress on stderr once the walk takes a while; stops on Ctrl-C. */
async function* withProgress(
  records: AsyncIterable<ChainRecord>,
  total: number,
  io: CliIo,
): AsyncIterable<ChainRecord> {
  const now = nowOf(io);
  const started = now();
  const progress = new ProgressLine(io);
  let done = 0;
  let shown = false;
  try {
    for await (const r of records) {
      if (io.interrupt.aborted) throw io.interrupt.reason;
      yield r;
      done += 1;
      if (done % 1000 === 0 && (shown || now() - started >= QUIET_MS)) {
        shown = true;
        progress.update(
          done,
          total,
          `verified ${formatCount(done)} of ${formatCount(total)} events (${percent(done, total)})`,
        );
      }
    }
  } finally {
    if (shown) progress.finish();
  }
}
