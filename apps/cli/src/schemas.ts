import type { CatalogueEntry } from '#lgsp/contracts';
import { requireArg, type Ctx } from './command.js';
import { EXIT, UsageError } from './io.js';
import { fields, table } from './table.js';

/** `GET /v1/schemas/{type}` as the hub answers it. */
interface SchemaAnswer {
  type: string;
  name: string;
  version: number;
  newest: number;
  schemaId: string;
  schema: Record<string, unknown>;
  downcastDrops?: string[];
}

/**
 * `lgsp schemas list`: every event family with its versions (type, schema, newest), and what a
 * downcast to an older version drops.
 */
export async function schemasList(ctx: Ctx): Promise<number> {
  if (ctx.args.length > 0) throw new UsageError(`schemas list takes no arguments, got ${ctx.args.join(' ')}`);
  const r = await ctx.api.call<{ events: CatalogueEntry[] }>('GET', '/v1/schemas');
  const rows = r.events.flatMap((e) =>
    e.versions.map((v) => [
      e.name,
      `v${v.version}${v.version === e.newest ? ' (newest)' : ''}`,
      v.type,
      e.hubEmitted ? 'hub' : 'clients',
      v.schema,
    ]),
  );
  const drops = r.events.flatMap((e) =>
    e.versions.flatMap((v) =>
      (v.downcastDrops ?? []).map((d) => `  ${e.name} v${v.version} → v${v.version - 1} drops ${d}`),
    ),
  );
  ctx.out.print(
    table(['EVENT', 'VERSION', 'TYPE', 'SENT BY', 'SCHEMA'], rows) +
      (drops.length > 0 ? `\n\nLossy downcasts:\n${drops.join('\n')}` : ''),
    r,
  );
  return EXIT.ok;
}

/** `lgsp schemas show TYPE`: one type's version and JSON Schema (the schema itself with --json). */
export async function schemasShow(ctx: Ctx): Promise<number> {
  const type = requireArg(ctx, 'an event type (vn.gov.lgsp.dossier.submitted.v2)', 'schemas show');
  const r = await ctx.api.call<SchemaAnswer>('GET', `/v1/schemas/${encodeURIComponent(type)}`);
  const required = Array.isArray(r.schema['required']) ? (r.schema['required'] as string[]) : [];
  const properties = Object.keys((r.schema['properties'] as Record<string, unknown> | undefined) ?? {});
  ctx.out.print(
    fields([
      ['type', r.type],
      ['event', r.name],
      ['version', `v${r.version}${r.version === r.newest ? ' (newest)' : ` (newest v${r.newest})`}`],
      ['schema', r.schemaId],
      ['title', typeof r.schema['title'] === 'string' ? r.schema['title'] : undefined],
      ['required', required.join(', ')],
      ['properties', properties.join(', ')],
      ['downcast drops', r.downcastDrops?.join('; ')],
    ]),
    r,
  );
  return EXIT.ok;
}
