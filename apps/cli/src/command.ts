import { parseArgs } from 'node:util';
import type { Api } from './api.js';
import { UsageError, type CliIo } from './io.js';

/** Every flag of every command; each command reads the ones it documents. */
export function parseFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    allowNegative: true,
    options: {
      name: { type: 'string' },
      communes: { type: 'string' },
      province: { type: 'string' },
      commune: { type: 'string' },
      role: { type: 'string' },
      sources: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      after: { type: 'string' },
      limit: { type: 'string' },
      type: { type: 'string' },
      types: { type: 'string' },
      target: { type: 'string' },
      note: { type: 'string' },
      through: { type: 'string' },
      store: { type: 'string' },
      schema: { type: 'string' },
      'data-dir': { type: 'string' },
      file: { type: 'string' },
      checkpoints: { type: 'string' },
      out: { type: 'string' },
      dossiers: { type: 'string' },
      'dossiers-file': { type: 'string' },
      'from-reconciliation': { type: 'string' },
      category: { type: 'string' },
      action: { type: 'string' },
      subject: { type: 'string' },
      'chunk-size': { type: 'string' },
      rate: { type: 'string' },
      'rate-limit': { type: 'string' },
      burst: { type: 'string' },
      url: { type: 'string' },
      description: { type: 'string' },
      provinces: { type: 'string' },
      'event-versions': { type: 'string' },
      position: { type: 'string' },
      reason: { type: 'string' },
      basis: { type: 'string' },
      yes: { type: 'boolean', short: 'y', default: false },
      wait: { type: 'boolean', default: true },
      json: { type: 'boolean', default: false },
      csv: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

export type Flags = ReturnType<typeof parseFlags>['values'];

/** Where a command writes its result: a table for people, or the JSON for scripts (`--json`). */
export interface Out {
  json: boolean;
  print(human: string, machine: unknown): void;
}

/** What a command gets: the hub's API, the process, the flags and its own positional arguments. */
export interface Ctx {
  api: Api;
  io: CliIo;
  flags: Flags;
  /** The positional arguments after the command's words (e.g. the ID of `replay status ID`). */
  args: string[];
  out: Out;
}

/** `?a=1&b=2` from the defined values, or ''. */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams(
    Object.entries(params)
      .filter((e): e is [string, string | number] => e[1] !== undefined)
      .map(([k, v]): [string, string] => [k, String(v)]),
  );
  return q.size > 0 ? `?${q}` : '';
}

/** An integer flag within [min, max], or undefined when absent. */
export function intFlag(flags: Flags, name: keyof Flags, min: number, max: number): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const n = typeof raw === 'string' && /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

/** A positive number flag (e.g. a rate per second), or undefined when absent. */
export function positiveFlag(flags: Flags, name: keyof Flags): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const n = typeof raw === 'string' && /^[0-9]+(\.[0-9]+)?$/.test(raw) ? Number(raw) : NaN;
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`--${name} must be a positive number`);
  return n;
}

/** A comma-separated list flag, trimmed, without empty items. */
export function listFlag(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return items;
}

/** The one positional argument a command needs, e.g. the run ID. */
export function requireArg(ctx: Ctx, what: string, command: string): string {
  const [arg] = ctx.args;
  if (!arg) throw new UsageError(`${command} needs ${what}`);
  return arg;
}
