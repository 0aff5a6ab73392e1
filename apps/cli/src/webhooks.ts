import type { DeliveryAttempt, WebhookFilter, WebhookView } from '#lgsp/webhooks';
import { intFlag, listFlag, positiveFlag, requireArg, type Ctx } from './command.js';
import { printListing } from './listing.js';
import { EXIT, UsageError } from './io.js';
import { isYes } from './replay.js';
import { cell, fields } from './table.js';

/** The wire types of `/v1/webhooks`, as the hub's webhook library defines them. */
export type { WebhookFilter } from '#lgsp/webhooks';
export type Webhook = WebhookView;
export type WebhookAttempt = DeliveryAttempt;

const FILTER_FLAGS = [
  ['types', 'an event type'],
  ['provinces', 'a province code'],
  ['communes', 'a commune code'],
] as const;

const path = (id: string, action = ''): string =>
  `/v1/webhooks/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;

/** `types a,b · provinces 01`, or `all events` for an empty filter. */
export function describeFilter(filter: WebhookFilter): string {
  const parts = FILTER_FLAGS.flatMap(([key]) => {
    const values = filter[key];
    return values && values.length > 0 ? [`${key} ${values.join(',')}`] : [];
  });
  return parts.length > 0 ? parts.join(' · ') : 'all events';
}

/** `dossier.submitted v2`: the version of each event family delivered. */
export function describeVersions(versions: Readonly<Record<string, number>> | undefined): string | undefined {
  if (versions === undefined) return undefined;
  const parts = Object.entries(versions).map(([family, v]) => `${family} v${v}`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

/**
 * `--event-versions dossier.submitted=2,…`: the versions asked for; `{}` for an empty flag (back to
 * version 1), undefined when the flag is absent.
 */
function versionsFlag(ctx: Ctx): Record<string, number> | undefined {
  const given = ctx.flags['event-versions'];
  if (given === undefined) return undefined;
  const out: Record<string, number> = {};
  for (const part of given
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([a-z][a-z0-9.-]*)=([1-9][0-9]{0,2})$/.exec(part);
    if (!m)
      throw new UsageError(`--event-versions takes NAME=VERSION pairs (dossier.submitted=2), got ${part}`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** A webhook as an operator reads it; `parked` names the command that lists the parked dossiers. */
export function describeWebhook(w: Webhook): string {
  return fields([
    ['webhook', w.id],
    ['url', w.url],
    ['description', w.description],
    [
      'state',
      w.state === 'active' ? 'active' : `disabled since ${w.disabledAt ?? '?'}: ${w.disabledReason ?? ''}`,
    ],
    ['filter', describeFilter(w.filter)],
    ['event versions', describeVersions(w.eventVersions)],
    ['rate', `${w.ratePerSecond}/s`],
    ['province', w.province],
    ['created', `${w.createdAt} by ${w.createdBy}`],
    ['updated', w.updatedAt],
    ['checkpoint', w.checkpoint],
    ['lag', `${w.lag.events} events, ${w.lag.seconds.toFixed(1)} s`],
    ['pending', w.pending],
    ['parked', w.parked > 0 ? `${w.parked} (lgsp parked list --target webhook:${w.id})` : 0],
    ['failing since', w.failingSince],
    ['secret rotated', w.secretRotatedAt],
    ['previous secret until', w.previousSecretExpiresAt],
  ]);
}

/** The filter flags given: `undefined` for an absent flag, `[]` for an empty one. */
function filterFlags(ctx: Ctx): Partial<Record<keyof WebhookFilter, string[]>> {
  const given: Partial<Record<keyof WebhookFilter, string[]>> = {};
  for (const [key] of FILTER_FLAGS) {
    const values = listFlag(ctx.flags[key]);
    if (values !== undefined) given[key] = values;
  }
  return given;
}

function urlArg(value: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag} must be an absolute URL, e.g. https://province.example/hooks/lgsp`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new UsageError(`${flag} must be an http or https URL`);
  return value;
}

const secretLine = (secret: string): string => `secret (shown only once, store it now): ${secret}`;

/** `webhooks create URL [--description D] [--types …] [--provinces …] [--communes …] [--rate N]`. */
export async function webhooksCreate(ctx: Ctx): Promise<number> {
  const url = urlArg(requireArg(ctx, 'the URL to deliver to', 'webhooks create'), 'the URL');
  const filter = filterFlags(ctx);
  for (const [key, what] of FILTER_FLAGS)
    if (filter[key]?.length === 0) throw new UsageError(`--${key} needs at least ${what}`);
  const ratePerSecond = positiveFlag(ctx.flags, 'rate');
  const eventVersions = versionsFlag(ctx);
  const r = await ctx.api.call<{ webhook: Webhook; secret: string }>('POST', '/v1/webhooks', {
    url,
    ...(ctx.flags.description === undefined ? {} : { description: ctx.flags.description }),
    ...(Object.keys(filter).length > 0 ? { filter } : {}),
    ...(eventVersions === undefined ? {} : { eventVersions }),
    ...(ratePerSecond === undefined ? {} : { ratePerSecond }),
  });
  ctx.out.print(`${describeWebhook(r.webhook)}\n\n${secretLine(r.secret)}`, r);
  return EXIT.ok;
}

/** `webhooks list [--limit N] [--after ID]`: the webhooks the token may see. */
export async function webhooksList(ctx: Ctx): Promise<number> {
  return printListing<Webhook>(ctx, {
    path: '/v1/webhooks',
    key: 'webhooks',
    params: () => ({ after: ctx.flags.after }),
    columns: ['ID', 'STATE', 'URL', 'FILTER', 'LAG', 'PENDING', 'PARKED'],
    row: (w) => [
      w.id,
      w.state,
      cell(w.url, 60),
      cell(describeFilter(w.filter), 60),
      `${w.lag.events} ev, ${w.lag.seconds.toFixed(1)} s`,
      w.pending,
      w.parked,
    ],
  });
}

/** `webhooks show ID`. */
export async function webhooksShow(ctx: Ctx): Promise<number> {
  const id = requireArg(ctx, 'a webhook ID', 'webhooks show');
  const r = await ctx.api.call<{ webhook: Webhook }>('GET', path(id));
  ctx.out.print(describeWebhook(r.webhook), r);
  return EXIT.ok;
}

/**
 * `webhooks update ID [--url U] [--description D] [--types …] [--provinces …] [--communes …] [--rate N]`.
 * The hub replaces the filter whole, so a filter flag is merged into the webhook's current filter
 * (read first); an empty one (`--provinces ''`) removes that member, letting every value through.
 */
export async function webhooksUpdate(ctx: Ctx): Promise<number> {
  const id = requireArg(ctx, 'a webhook ID', 'webhooks update');
  const { flags } = ctx;
  const url = flags.url === undefined ? undefined : urlArg(flags.url, '--url');
  const ratePerSecond = positiveFlag(flags, 'rate');
  const given = filterFlags(ctx);
  const eventVersions = versionsFlag(ctx);
  const body: Record<string, unknown> = {
    ...(url === undefined ? {} : { url }),
    ...(eventVersions === undefined ? {} : { eventVersions }),
    ...(flags.description === undefined ? {} : { description: flags.description }),
    ...(ratePerSecond === undefined ? {} : { ratePerSecond }),
  };
  if (Object.keys(given).length > 0) {
    const { webhook } = await ctx.api.call<{ webhook: Webhook }>('GET', path(id));
    const filter: WebhookFilter = { ...webhook.filter };
    for (const [key] of FILTER_FLAGS) {
      const values = given[key];
      if (values === undefined) continue;
      if (values.length > 0) filter[key] = values;
      else delete filter[key];
    }
    body.filter = filter;
  }
  if (Object.keys(body).length === 0)
    throw new UsageError(
      'webhooks update needs at least one of --url, --description, --types, --provinces, --communes, --event-versions, --rate',
    );
  const r = await ctx.api.call<{ webhook: Webhook }>('PATCH', path(id), body);
  ctx.out.print(describeWebhook(r.webhook), r);
  return EXIT.ok;
}

/** `webhooks rotate-secret ID`: a new secret; the previous one keeps signing for a while. */
export async function webhooksRotateSecret(ctx: Ctx): Promise<number> {
  const id = requireArg(ctx, 'a webhook ID', 'webhooks rotate-secret');
  const r = await ctx.api.call<{ webhook: Webhook; secret: string }>('POST', path(id, 'rotate-secret'), {});
  const until = r.webhook.previousSecretExpiresAt;
  ctx.out.print(
    `${secretLine(r.secret)}\n` +
      (until === undefined
        ? 'the previous secret no longer signs'
        : `the previous secret keeps signing until ${until}: deliveries carry both signatures until then`),
    r,
  );
  return EXIT.ok;
}

/** `webhooks enable ID`: delivery resumes from the checkpoint and catches up. */
export async function webhooksEnable(ctx: Ctx): Promise<number> {
  const id = requireArg(ctx, 'a webhook ID', 'webhooks enable');
  const r = await ctx.api.call<{ webhook: Webhook }>('POST', path(id, 'enable'), {});
  const w = r.webhook;
  ctx.out.print(
    `webhook ${w.id} ${w.state}; ${w.lag.events} events to catch up from position ${w.checkpoint}`,
    r,
  );
  return EXIT.ok;
}

/** `webhooks disable ID [--reason TEXT]`. */
export async function webhooksDisable(ctx: Ctx): Promise<number> {
  const id = requireArg(ctx, 'a webhook ID', 'webhooks disable');
  const reason = ctx.flags.reason;
  const r = await ctx.api.call<{ webhook: Webhook }>(
    'POST',
    path(id, 'disable'),
    reason === undefined ? {} : { reason },
  );
  const w = r.webhook;
  ctx.out.print(`webhook ${w.id} ${w.state}${w.disabledReason ? `: ${w.disabledReason}` : ''}`, r);
  return EXIT.ok;
}

/** `webhooks attempts ID [--limit N] [--after SEQ] [--position P]`: the delivery log, oldest first. */
export async function webhooksAttempts(ctx: Ctx): Promise<number> {
  const id = requireArg(ctx, 'a webhook ID', 'webhooks attempts');
  return printListing<WebhookAttempt>(ctx, {
    path: path(id, 'attempts'),
    key: 'attempts',
    params: () => ({
      after: intFlag(ctx.flags, 'after', 0, Number.MAX_SAFE_INTEGER),
      position: intFlag(ctx.flags, 'position', 1, Number.MAX_SAFE_INTEGER),
    }),
    columns: ['SEQ', 'AT', 'POSITION', 'ATTEMPT', 'STATUS', 'DURATION', 'OUTCOME', 'ERROR'],
    row: (a) => [
      a.seq,
      a.at,
      a.position,
      a.attempt,
      a.status ?? '-',
      `${a.durationMs} ms`,
      a.outcome,
      a.error === undefined ? '' : cell(a.error, 60),
    ],
  });
}

/** `webhooks redeliver ID --from POSITION`: every event of the filter from there, sent again. */
export async function webhooksRedeliver(ctx: Ctx): Promise<number> {
  const id = requireArg(ctx, 'a webhook ID', 'webhooks redeliver');
  const fromPosition = intFlag(ctx.flags, 'from', 1, Number.MAX_SAFE_INTEGER);
  if (fromPosition === undefined) throw new UsageError('webhooks redeliver needs --from POSITION');
  const r = await ctx.api.call<{ webhook: Webhook; fromPosition: number }>('POST', path(id, 'redeliver'), {
    fromPosition,
  });
  ctx.out.print(
    `webhook ${r.webhook.id}: redelivering every event of its filter from position ${r.fromPosition} ` +
      '(with the same webhook-id as before)',
    r,
  );
  return EXIT.ok;
}

/**
 * `webhooks delete ID [--yes]`: asks on a terminal, shows what it deletes; without a terminal it
 * needs --yes (exit 2 otherwise); a declined question deletes nothing (exit 6).
 */
export async function webhooksDelete(ctx: Ctx): Promise<number> {
  const id = requireArg(ctx, 'a webhook ID', 'webhooks delete');
  if (!ctx.flags.yes) {
    if (!ctx.io.ask) {
      ctx.io.stderr.write(
        `lgsp: deleting webhook ${id} needs confirmation and there is no terminal to ask on: run again with --yes\n`,
      );
      return EXIT.usage;
    }
    const { webhook } = await ctx.api.call<{ webhook: Webhook }>('GET', path(id));
    const answer = await ctx.io.ask(
      `Delete webhook ${webhook.id} (${webhook.url}, ${describeFilter(webhook.filter)})? [y/N] `,
    );
    if (!isYes(answer)) {
      ctx.io.stderr.write('lgsp: not confirmed; nothing was deleted\n');
      return EXIT.incomplete;
    }
  }
  await ctx.api.call<undefined>('DELETE', path(id));
  ctx.out.print(`deleted webhook ${id}`, { id, deleted: true });
  return EXIT.ok;
}
