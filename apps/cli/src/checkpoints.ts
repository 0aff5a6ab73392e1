import type { CheckpointExport } from '#lgsp/checkpoints';
import { query, type Ctx } from './command.js';
import { EXIT, UsageError } from './io.js';
import { table } from './table.js';

/** Checkpoints asked per request (the hub's largest page). */
const PAGE = 1000;

/**
 * `lgsp checkpoints export [--json] [--out FILE]`: every signed checkpoint the hub keeps, with its
 * public key, for anchoring elsewhere. `--json` writes the export document that `lgsp verify
 * --checkpoints FILE` reads; `--out` writes to FILE instead of stdout (and says so on stdout).
 */
export async function checkpointsExport(ctx: Ctx): Promise<number> {
  const { api, flags, io, out } = ctx;
  if (ctx.args.length > 0)
    throw new UsageError(`checkpoints export takes no arguments, got ${ctx.args.join(' ')}`);
  if (flags.out === '') throw new UsageError('--out needs a file name');
  const page = (after: number) =>
    api.call<CheckpointExport & { next?: number }>(
      'GET',
      `/v1/admin/checkpoints${query({ after, limit: PAGE })}`,
    );
  const { next: first, ...exported } = await page(0);
  for (let next = first; next !== undefined;) {
    const more = await page(next);
    exported.checkpoints.push(...more.checkpoints);
    next = more.next;
  }
  const text = flags.json ? `${JSON.stringify(exported, null, 2)}\n` : `${render(exported)}\n`;
  if (flags.out === undefined) {
    io.stdout.write(text);
    return EXIT.ok;
  }
  const write = io.writeFile ?? (await import('node:fs')).writeFileSync;
  write(flags.out, text);
  const last = exported.checkpoints.at(-1);
  out.print(
    `wrote ${exported.checkpoints.length} checkpoints${last ? ` (the last at position ${last.position})` : ''} ` +
      `and key ${exported.keyId} to ${flags.out}`,
    {
      file: flags.out,
      keyId: exported.keyId,
      checkpoints: exported.checkpoints.length,
      last: last?.position,
    },
  );
  return EXIT.ok;
}

function render(e: CheckpointExport): string {
  return (
    `${e.algorithm} public key ${e.keyId}:\n${e.publicKey.trimEnd()}\n\n` +
    table(
      ['POSITION', 'CHAIN HASH', 'SIGNED AT', 'SIGNATURE'],
      e.checkpoints.map((c) => [c.position, c.chainHash, c.signedAt, c.signature]),
    )
  );
}
