import { DomainError } from '#lgsp/contracts';
import { REPLAY_TRANSITIONS, type ReplayCommand, type ReplayRun, type ReplayState } from './model.js';

/** The component name of the replay tables in `schema_version`. */
export const REPLAY_COMPONENT = 'replay.runs';

const FINAL: ReadonlySet<ReplayState> = new Set(['completed', 'cancelled', 'failed']);

/** The run after `command`, or DomainError `conflict` when the state machine refuses it. */
export function applyCommand(run: ReplayRun, command: ReplayCommand, at: string, error?: string): ReplayRun {
  const next = REPLAY_TRANSITIONS[run.state][command];
  if (next === undefined)
    throw new DomainError('conflict', `replay ${run.id} is ${run.state}: it cannot ${command}`);
  const { finishedAt: _finishedAt, error: _error, ...rest } = run;
  return {
    ...rest,
    state: next,
    updatedAt: at,
    ...(FINAL.has(next) ? { finishedAt: at } : {}),
    ...(next === 'failed' && error !== undefined ? { error } : {}),
  };
}

export const unknownRun = (id: string) => new DomainError('not-found', `no replay ${id}`);

/** A run as both SQL stores keep it. */
export interface ReplayRunRow {
  seq: number | string;
  id: string;
  target: string;
  scope: string;
  unit: string;
  state: string;
  by: string;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  total: number | string;
  done: number | string;
  failed: number | string;
  chunk_size: number;
  rate_per_second: number;
  error: string | null;
}

export function toReplayRun(row: ReplayRunRow): ReplayRun {
  return {
    id: row.id,
    target: row.target,
    scope: JSON.parse(row.scope) as ReplayRun['scope'],
    unit: row.unit as ReplayRun['unit'],
    state: row.state as ReplayState,
    by: row.by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(row.finished_at === null ? {} : { finishedAt: row.finished_at }),
    total: Number(row.total),
    done: Number(row.done),
    failed: Number(row.failed),
    chunkSize: Number(row.chunk_size),
    ratePerSecond: Number(row.rate_per_second),
    ...(row.error === null ? {} : { error: row.error }),
  };
}

/** The values of an INSERT of every column but `seq`, in {@link RUN_COLUMNS} order. */
export const runValues = (r: ReplayRun): (string | number | null)[] => [
  r.id,
  r.target,
  JSON.stringify(r.scope),
  r.unit,
  r.state,
  r.by,
  r.createdAt,
  r.updatedAt,
  r.finishedAt ?? null,
  r.total,
  r.done,
  r.failed,
  r.chunkSize,
  r.ratePerSecond,
  r.error ?? null,
];

export const RUN_COLUMNS =
  'id, target, scope, unit, state, by, created_at, updated_at, finished_at, total, done, failed, chunk_size, rate_per_second, error';
