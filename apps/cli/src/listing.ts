import { intFlag, query, type Ctx } from './command.js';
import { EXIT } from './io.js';
import { table } from './table.js';

/** A listing command: one page of an admin collection, printed as a table. */
export interface Listing<T> {
  path: string;
  /** The member of the answer holding the items. */
  key: string;
  /** The query parameters after `limit` (`--limit`, 1 to 1000, read first). */
  params(): Record<string, string | number | undefined>;
  columns: readonly string[];
  row(item: T): unknown[];
}

/** GETs the page and prints its table, then the `--after` of the next page when the answer names one. */
export async function printListing<T>(ctx: Ctx, listing: Listing<T>): Promise<number> {
  const limit = intFlag(ctx.flags, 'limit', 1, 1000);
  const r = await ctx.api.call<Record<string, unknown> & { next?: number }>(
    'GET',
    `${listing.path}${query({ limit, ...listing.params() })}`,
  );
  ctx.out.print(
    table(
      listing.columns,
      (r[listing.key] as T[]).map((item) => listing.row(item)),
    ) + (r.next === undefined ? '' : `\nmore: --after ${r.next}`),
    r,
  );
  return EXIT.ok;
}
