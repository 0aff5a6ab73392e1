import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CheckpointCheck, CheckpointExport } from '#lgsp/checkpoints';
import type { ChainRecord, ChainSource, ChainVerdict } from '#lgsp/event-store';
import type { Ctx } from './command.js';
import { loadHubConfig } from './hub-config.js';
import { EXIT, nowOf, UsageError, type CliIo } from './io.js';
import { ProgressLine, formatCount, percent } from './progress.js';

/** Progress shows only for a walk that takes longer than this (a large store). */
const QUIET_MS = 1000;

/** The store `lgsp verify` reads: an SQLite file, or a PostgreSQL schema. */
type Target = { file: string } | { connectionString: string; schema: string };

/** The checkpoints the chain is checked against, and where they come from (for messages). */
interface Expected {
  set: CheckpointExport;
  from: string;
}

/**
 * `lgsp verify`: recomputes the hash chain of the whole log, read straight from the store (or a copy
 * of it), and names the first position that is modified, missing or out of order; then checks the
 * chain against the signed checkpoints (the store's own, or with `--checkpoints` an export kept
 * elsewhere) and names the first that does not match. Exit 0 when both hold, 7 when either fails,
 * 4 when the store cannot be read.
 */
export async function verify(ctx: Ctx): Promise<number> {
  const { io, out } = ctx;
  if (ctx.args.length > 0) throw new UsageError(`verify takes no arguments, got ${ctx.args.join(' ')}`);
  const target = await targetOf(ctx);
  const fromFile =
    ctx.flags.checkpoints === undefined ? undefined : await exportFile(ctx, ctx.flags.checkpoints);
  // The store's checkpoints are read before the walk's snapshot: each is then at or below its head.
  const stored = fromFile === undefined ? await storedCheckpoints(target) : undefined;
  const source = await openSource(target);
  const expected = fromFile ?? (stored?.set ? { set: stored.set, from: 'kept in the store' } : undefined);
  let check: CheckpointCheck | undefined;
  let verdict: ChainVerdict;
  try {
    if (stored?.error !== undefined) throw stored.error;
    check = expected && (await checkOf(expected, fromFile !== undefined));
    const total = await source.head();
    const { verifyRecords } = await import('#lgsp/event-store');
    verdict = await verifyRecords(observed(withProgress(source.records(), total, io), check));
  } finally {
    await source.close();
  }
  if (!verdict.ok) {
    const { position, kind, reason, foundAt } = verdict.break;
    out.print(
      `chain broken at position ${position}: ${kind.replace(/-/g, ' ')} (${reason})\n` +
        `${verdict.events} events before it verified`,
      { ok: false, store: source.name, events: verdict.events, break: { position, kind, reason, foundAt } },
    );
    return EXIT.chainBroken;
  }
  const holds = `chain holds: ${verdict.events} events, head hash ${verdict.head.hash}`;
  const result = { store: source.name, events: verdict.events, head: verdict.head };
  if (check === undefined || expected === undefined || (check.size === 0 && fromFile === undefined)) {
    out.print(holds, { ok: true, ...result });
    return EXIT.ok;
  }
  const cp = check.verdict(verdict.head.position);
  const about = { from: expected.from, keyId: expected.set.keyId, checked: cp.checked };
  if (!cp.ok) {
    const m = cp.mismatch;
    out.print(
      `${holds}\ncheckpoint at position ${m.position} (signed ${m.signedAt}) does not match: ${m.reason}\n` +
        `${cp.checked} checkpoints (${expected.from}) before it matched`,
      { ok: false, ...result, checkpoints: { ...about, mismatch: m } },
    );
    return EXIT.chainBroken;
  }
  const last = cp.last ? `, the last at position ${cp.last.position} signed ${cp.last.signedAt}` : '';
  out.print(
    `${holds}\ncheckpoints match: ${cp.checked} (${expected.from}), key ${expected.set.keyId}${last}`,
    {
      ok: true,
      ...result,
      checkpoints: { ...about, ...(cp.last ? { last: cp.last } : {}) },
    },
  );
  return EXIT.ok;
}

/** The store to read: `--file`, or the hub's configured store (with --store, --schema, --data-dir). */
async function targetOf(ctx: Ctx): Promise<Target> {
  const { flags, io } = ctx;
  if (flags.file !== undefined) {
    if (flags['data-dir'] !== undefined || flags.schema !== undefined)
      throw new UsageError('verify --file reads that file: it takes no --data-dir or --schema');
    if (flags.store !== undefined && flags.store !== 'sqlite')
      throw new UsageError(
        'verify --file reads a copy of an SQLite events.db: --store must be sqlite or absent',
      );
    return { file: flags.file };
  }
  const config = await loadHubConfig(io.env, {
    store: flags.store,
    schema: flags.schema,
    dataDir: flags['data-dir'],
  });
  if (config.store === 'sqlite') {
    if (flags.schema !== undefined) throw new UsageError('--schema is for a PostgreSQL store');
    // The embedded store's file, as the hub names it (libs/hub-storage).
    return { file: join(config.dataDir, 'events.db') };
  }
  if (flags['data-dir'] !== undefined) throw new UsageError('--data-dir is for the sqlite store');
  return { connectionString: config.store, schema: config.postgres.schema };
}

async function openSource(target: Target): Promise<ChainSource> {
  if ('file' in target) {
    const { openSqliteChainSource } = await import('#lgsp/event-store/sqlite');
    return openSqliteChainSource(target.file);
  }
  const { openPostgresChainSource } = await import('#lgsp/event-store/postgres');
  return openPostgresChainSource(target);
}

/** `--checkpoints FILE`: an export written by `lgsp checkpoints export --json`. */
async function exportFile(ctx: Ctx, file: string): Promise<Expected> {
  let text: string;
  try {
    text = ctx.io.readFile(file);
  } catch (err) {
    throw new UsageError(`cannot read --checkpoints ${file}: ${(err as Error).message}`);
  }
  const { parseCheckpointExport } = await import('#lgsp/checkpoints');
  try {
    return { set: parseCheckpointExport(JSON.parse(text)), from: `from ${file}` };
  } catch (err) {
    throw new UsageError(`--checkpoints ${file} is not a checkpoint export: ${(err as Error).message}`);
  }
}

/**
 * The checkpoints kept in the store (none when it has no checkpoint tables, or no key yet), read
 * without writing anything. A failure is kept for after the store is opened, so that a store that
 * cannot be read at all is reported as such.
 */
async function storedCheckpoints(
  target: Target,
): Promise<{ set?: CheckpointExport; error?: unknown } | undefined> {
  const { readStoredCheckpoints } = await import('#lgsp/checkpoints');
  try {
    if ('file' in target) {
      if (!existsSync(target.file)) return undefined;
      const { DatabaseSync } = await import('node:sqlite');
      const { SqliteDatabase } = await import('#lgsp/storage/sqlite');
      const url = pathToFileURL(target.file);
      // As the chain source opens it: no -wal and -shm files made next to a copy.
      if (!existsSync(`${target.file}-wal`)) url.searchParams.set('immutable', '1');
      const db = new DatabaseSync(url, { readOnly: true });
      try {
        const set = await readStoredCheckpoints(SqliteDatabase.over(db));
        return set ? { set } : undefined;
      } finally {
        db.close();
      }
    }
    const { PostgresDatabase } = await import('#lgsp/storage/postgres');
    const db = PostgresDatabase.open({ ...target, poolSize: 1, applicationName: 'lgsp-verify' });
    try {
      const set = await readStoredCheckpoints(db);
      return set ? { set } : undefined;
    } finally {
      await db.close();
    }
  } catch (error) {
    return { error };
  }
}

/** The check of `expected`; a public key that is not usable is a usage error in a file, a failed check in a store. */
async function checkOf(expected: Expected, fromFile: boolean): Promise<CheckpointCheck> {
  const { CheckpointCheck: Check } = await import('#lgsp/checkpoints');
  try {
    return new Check(expected.set);
  } catch (err) {
    const message = `the public key of ${expected.from} is not usable: ${(err as Error).message}`;
    if (fromFile) throw new UsageError(message);
    throw new Error(message, { cause: err });
  }
}

/** Passes the records through, showing each to the checkpoint check. */
async function* observed(
  records: AsyncIterable<ChainRecord>,
  check: CheckpointCheck | undefined,
): AsyncIterable<ChainRecord> {
  for await (const r of records) {
    check?.observe(r);
    yield r;
  }
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
