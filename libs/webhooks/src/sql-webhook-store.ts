import {
  MigratingSqlStore,
  SqlSchema,
  durableWithNextCommit,
  readJson,
  sqlMigration,
  whenMigrated,
  type SqlColumnTypes,
  type SqlDatabase,
  type SqlExecutor,
} from '#lgsp/storage';
import {
  WEBHOOKS_COMPONENT,
  type AttemptOutcome,
  type DeliveryAttempt,
  type DeliveryRow,
  type RequeuedDeliveries,
  type ResponseSealing,
  type WebhookFilter,
  type WebhookRecord,
  type WebhookState,
} from './model.js';
import type { EventVersions } from '#lgsp/contracts';

/** An ordinary transaction, as {@link durableWithNextCommit} is called. */
const inTransaction = <T>(db: SqlDatabase, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> =>
  db.transaction(fn);

const tables = (t: SqlColumnTypes) => `
  CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    description TEXT,
    filter ${t.json} NOT NULL,
    rate_per_second ${t.real} NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'disabled')),
    disabled_reason TEXT,
    disabled_at TEXT,
    province TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_expires_at TEXT,
    secret_rotated_at TEXT,
    queued_through ${t.big} NOT NULL,
    delivered_through ${t.big} NOT NULL,
    redeliver_through ${t.big},
    redeliver_mark TEXT,
    failing_since TEXT,
    revision ${t.big} NOT NULL
  )${t.strict};
  CREATE TABLE webhook_deliveries (
    webhook_id TEXT NOT NULL,
    position ${t.big} NOT NULL,
    stream TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'parked')),
    attempts INTEGER NOT NULL,
    next_at ${t.big} NOT NULL,
    replay TEXT,
    PRIMARY KEY (webhook_id, position)
  )${t.strict};
  CREATE INDEX webhook_deliveries_stream ON webhook_deliveries (webhook_id, stream, position);
  CREATE TABLE webhook_attempts (
    seq ${t.serial},
    webhook_id TEXT NOT NULL,
    position ${t.big} NOT NULL,
    message_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at TEXT NOT NULL,
    status INTEGER,
    duration_ms INTEGER NOT NULL,
    response TEXT,
    error TEXT,
    outcome TEXT NOT NULL,
    next_at TEXT
  )${t.strict};
  CREATE INDEX webhook_attempts_by_webhook ON webhook_attempts (webhook_id, seq);
  CREATE TABLE webhook_cursor (
    name TEXT PRIMARY KEY,
    position ${t.big} NOT NULL
  )${t.strict};
`;

const eventVersionsColumn = (t: SqlColumnTypes) => `
  ALTER TABLE webhooks ADD COLUMN event_versions ${t.json};
`;

const SCHEMA = new SqlSchema(WEBHOOKS_COMPONENT, [
  sqlMigration(1, 'webhook subscriptions, their queued deliveries and attempts', tables),
  sqlMigration(2, 'the event versions a webhook receives', eventVersionsColumn),
]);

/** The one row of `webhook_cursor`: how far the queueing subscriber has read the log. */
const CURSOR = 'webhooks';

/** The settings an update may change (and the state changes the delivery makes). */
export interface WebhookChanges {
  url?: string;
  description?: string | null;
  filter?: WebhookFilter;
  /** `{}` (or null) goes back to version 1 of every family. */
  eventVersions?: EventVersions | null;
  ratePerSecond?: number;
  state?: WebhookState;
  disabledReason?: string | null;
  disabledAt?: string | null;
  secret?: string;
  previousSecret?: string | null;
  previousSecretExpiresAt?: string | null;
  secretRotatedAt?: string;
  failingSince?: string | null;
  updatedAt?: string;
}

const COLUMNS: Record<keyof WebhookChanges, string> = {
  url: 'url',
  description: 'description',
  filter: 'filter',
  eventVersions: 'event_versions',
  ratePerSecond: 'rate_per_second',
  state: 'state',
  disabledReason: 'disabled_reason',
  disabledAt: 'disabled_at',
  secret: 'secret',
  previousSecret: 'previous_secret',
  previousSecretExpiresAt: 'previous_secret_expires_at',
  secretRotatedAt: 'secret_rotated_at',
  failingSince: 'failing_since',
  updatedAt: 'updated_at',
};

/** A delivery's new state after a try, and the try itself: written in one transaction. */
export interface DeliveryOutcome {
  webhookId: string;
  position: number;
  /** The delivered event's stream: the attempt's response is sealed as a copy of its data (see {@link ResponseSealing}). */
  stream?: string;
  /**
   * `delivered` removes the row when it was kept in the table (`persisted`); otherwise the row is
   * written (created or updated) with its new attempts, state and due time.
   */
  result:
    | { delivered: true; persisted: boolean }
    | {
        delivered: false;
        state: 'pending' | 'parked';
        attempts: number;
        nextAt: number;
        stream: string;
        recordedAt: string;
        replay?: string;
      };
  attempt?: Omit<DeliveryAttempt, 'seq'>;
}

interface WebhookRow {
  id: string;
  url: string;
  description: string | null;
  filter: unknown;
  event_versions: unknown;
  rate_per_second: number;
  state: WebhookState;
  disabled_reason: string | null;
  disabled_at: string | null;
  province: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: string | null;
  secret_rotated_at: string | null;
  queued_through: number | string;
  delivered_through: number | string;
  redeliver_through: number | string | null;
  redeliver_mark: string | null;
  failing_since: string | null;
  revision: number | string;
}

interface DeliveryDbRow {
  webhook_id: string;
  position: number | string;
  stream: string;
  recorded_at: string;
  state: 'pending' | 'parked';
  attempts: number;
  next_at: number | string;
  replay: string | null;
}

interface AttemptDbRow {
  seq: number | string;
  webhook_id: string;
  position: number | string;
  message_id: string;
  attempt: number;
  at: string;
  status: number | null;
  duration_ms: number;
  response: string | null;
  error: string | null;
  outcome: AttemptOutcome;
  next_at: string | null;
}

/** Rows per multi-row INSERT (8 parameters each, far below either database's limit). */
/**
 * Rows per multi-row statement: a list is cut into pieces of these sizes only (largest first), so that
 * the statements prepared (and cached per text) stay few, whatever the lengths of the lists.
 */
const CHUNK_SIZES = [200, 50, 10, 1] as const;

/** `items` in consecutive pieces of the {@link CHUNK_SIZES}. */
function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  let i = 0;
  for (const size of CHUNK_SIZES) {
    while (items.length - i >= size) {
      out.push(items.slice(i, i + size));
      i += size;
    }
  }
  return out;
}

/**
 * Webhooks, their queued deliveries and the attempts log, beside the events (the SQLite file, or the
 * PostgreSQL schema every replica shares). Queueing writes the rows with the queueing cursor in one
 * transaction; a try's outcome and its attempt line are written in one transaction too.
 */
export class SqlWebhookStore extends MigratingSqlStore {
  constructor(
    db: SqlDatabase,
    private readonly responses?: ResponseSealing,
  ) {
    super(db, SCHEMA);
  }

  /** With `responses`, the receivers' answers in the attempts log are stored sealed. */
  static async open(db: SqlDatabase, responses?: ResponseSealing): Promise<SqlWebhookStore> {
    return whenMigrated(new SqlWebhookStore(db, responses));
  }

  async create(w: WebhookRecord): Promise<void> {
    await this.ready;
    await this.db.run(
      `INSERT INTO webhooks (id, url, description, filter, rate_per_second, state, disabled_reason,
         disabled_at, province, created_by, created_at, updated_at, secret, previous_secret,
         previous_secret_expires_at, secret_rotated_at, queued_through, delivered_through, redeliver_through, redeliver_mark,
         failing_since, revision, event_versions)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
         $21, $22, $23)`,
      [
        w.id,
        w.url,
        w.description ?? null,
        JSON.stringify(w.filter),
        w.ratePerSecond,
        w.state,
        w.disabledReason ?? null,
        w.disabledAt ?? null,
        w.province ?? null,
        w.createdBy,
        w.createdAt,
        w.updatedAt,
        w.secret,
        w.previousSecret ?? null,
        w.previousSecretExpiresAt ?? null,
        w.secretRotatedAt ?? null,
        w.cursor,
        w.deliveredThrough,
        w.redeliverThrough ?? null,
        w.redeliverMark ?? null,
        w.failingSince ?? null,
        w.revision,
        jsonOrNull(w.eventVersions ?? null),
      ],
    );
  }

  async get(id: string): Promise<WebhookRecord | undefined> {
    await this.ready;
    const [row] = await this.db.query<WebhookRow>('SELECT * FROM webhooks WHERE id = $1', [id]);
    return row && this.toRecord(row);
  }

  /** Webhooks in id order after `after`; only those owned by `province` when given. */
  async list(query: { limit: number; after?: string; province?: string }): Promise<WebhookRecord[]> {
    await this.ready;
    const rows = await this.db.query<WebhookRow>(
      `SELECT * FROM webhooks WHERE id > $1 AND (CAST($2 AS TEXT) IS NULL OR province = $2)
       ORDER BY id LIMIT $3`,
      [query.after ?? '', query.province ?? null, query.limit],
    );
    return rows.map((r) => this.toRecord(r));
  }

  /** Every webhook (the delivery's working set). */
  async all(): Promise<WebhookRecord[]> {
    await this.ready;
    const rows = await this.db.query<WebhookRow>('SELECT * FROM webhooks ORDER BY id');
    return rows.map((r) => this.toRecord(r));
  }

  /** Each webhook's id and revision: what a replica compares to see what changed. */
  async revisions(): Promise<Map<string, number>> {
    await this.ready;
    const rows = await this.db.query<{ id: string; revision: number | string }>(
      'SELECT id, revision FROM webhooks',
    );
    return new Map(rows.map((r) => [r.id, Number(r.revision)]));
  }

  /** Applies `changes` and raises the revision; the webhook as stored, or undefined when there is none. */
  async update(id: string, changes: WebhookChanges): Promise<WebhookRecord | undefined> {
    await this.ready;
    return this.db.transaction((tx) => updateIn(tx, id, changes).then((r) => r && this.toRecord(r)));
  }

  /**
   * Removes the webhook, its queued deliveries and its attempts log. The webhook's row goes first: a
   * {@link record} running meanwhile either waits for it (and then writes nothing) or commits before
   * (and its lines are deleted here).
   */
  async delete(id: string): Promise<boolean> {
    await this.ready;
    return this.db.transaction(async (tx) => {
      const deleted = (await tx.run('DELETE FROM webhooks WHERE id = $1', [id])) > 0;
      await tx.run('DELETE FROM webhook_deliveries WHERE webhook_id = $1', [id]);
      await tx.run('DELETE FROM webhook_attempts WHERE webhook_id = $1', [id]);
      return deleted;
    });
  }

  /** How far the queueing subscriber has read the log (0 before its first page). */
  async loadCursor(): Promise<number> {
    await this.ready;
    const [row] = await this.db.query<{ position: number | string }>(
      'SELECT position FROM webhook_cursor WHERE name = $1',
      [CURSOR],
    );
    return row ? Number(row.position) : 0;
  }

  /**
   * Queues deliveries and moves cursors, in one transaction: `rows` (an event already queued for a
   * webhook stays as it is), each webhook's cursor from `from` to `to` (skipped when it moved
   * meanwhile: a redelivery rewound it, and the rewind wins), and the queueing cursor when given.
   * @returns the webhooks whose cursor moved (their rows were queued).
   */
  async enqueue(
    rows: readonly Omit<DeliveryRow, 'state' | 'attempts'>[],
    cursors: readonly { id: string; from: number; to: number }[],
    logCursor?: number,
  ): Promise<Set<string>> {
    await this.ready;
    // The queueing cursor alone (no webhook's cursor moves: none active, or each behind or full): its
    // commit needs no fsync. A process that dies loses nothing of it; a power loss before the next
    // synced commit on the file (the event store's, embedded) can only take it back, and the log read
    // again queues nothing twice (each webhook's own cursor, synced, says what it has; a webhook
    // created meanwhile starts at the log's head).
    const commit = rows.length === 0 && cursors.length === 0 ? durableWithNextCommit : inTransaction;
    return commit(this.db, async (tx) => {
      const moved = new Set<string>();
      for (const c of cursors) {
        const n = await tx.run(
          'UPDATE webhooks SET queued_through = $3 WHERE id = $1 AND queued_through = $2',
          [c.id, c.from, c.to],
        );
        if (n > 0) moved.add(c.id);
      }
      const kept = rows.filter((r) => moved.has(r.webhookId));
      await insertRows(tx, kept);
      if (logCursor !== undefined) {
        await tx.run(
          `INSERT INTO webhook_cursor (name, position) VALUES ($1, $2)
           ON CONFLICT (name) DO UPDATE SET position = excluded.position`,
          [CURSOR, logCursor],
        );
      }
      return moved;
    });
  }

  /**
   * Queues events for one webhook again (a replay or a parking's retry) and raises its revision; answers
   * the rows inserted and the new revision, so that the delivery in this process can take them in
   * without reading the webhook's queue again (see `WebhookDelivery.requeued`).
   */
  async requeue(
    webhookId: string,
    rows: readonly Omit<DeliveryRow, 'state' | 'attempts'>[],
  ): Promise<RequeuedDeliveries> {
    await this.ready;
    return this.db.transaction(async (tx) => {
      const inserted = new Set(
        await insertRows(
          tx,
          rows.map((r) => ({ ...r, webhookId })),
          true,
        ),
      );
      const [row] = await tx.query<{ revision: number | string }>(
        'UPDATE webhooks SET revision = revision + 1 WHERE id = $1 RETURNING revision',
        [webhookId],
      );
      const added = new Map<number, DeliveryRow>();
      const waiting = new Map<number, DeliveryRow>();
      for (const r of rows) {
        const into = inserted.has(r.position) ? added : waiting;
        if (!into.has(r.position)) into.set(r.position, { ...r, webhookId, state: 'pending', attempts: 0 });
      }
      return {
        webhookId,
        rows: [...added.values()],
        waiting: [...waiting.values()],
        revision: Number(row?.revision ?? 0),
      };
    });
  }

  /**
   * Moves the webhook's cursor back so that every event after `position` is queued again, those it had
   * passed marked `mark` (see {@link WebhookRecord.redeliverThrough}), and raises its revision. False
   * when there is no such webhook.
   */
  async rewind(webhookId: string, position: number, updatedAt: string, mark: string): Promise<boolean> {
    await this.ready;
    // Every right-hand side reads the row as it was before this UPDATE.
    const n = await this.db.run(
      `UPDATE webhooks SET
         redeliver_through = CASE
           WHEN queued_through <= $2 THEN redeliver_through
           WHEN redeliver_through IS NOT NULL AND redeliver_through > queued_through THEN redeliver_through
           ELSE queued_through END,
         redeliver_mark = CASE WHEN queued_through > $2 THEN CAST($4 AS TEXT) ELSE redeliver_mark END,
         queued_through = CASE WHEN queued_through > $2 THEN $2 ELSE queued_through END,
         delivered_through = CASE WHEN delivered_through > $2 THEN $2 ELSE delivered_through END,
         revision = revision + 1, updated_at = $3
       WHERE id = $1`,
      [webhookId, position, updatedAt, mark],
    );
    return n > 0;
  }

  /** The webhook's queued deliveries, in log order. */
  async outstanding(webhookId: string): Promise<DeliveryRow[]> {
    await this.ready;
    const rows = await this.db.query<DeliveryDbRow>(
      'SELECT * FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY position',
      [webhookId],
    );
    return rows.map(toDeliveryRow);
  }

  /** Deliveries waiting and dossiers parked, and the oldest waiting delivery (for the lag). */
  async progress(
    webhookId: string,
  ): Promise<{ pending: number; parked: number; oldest?: { position: number; recordedAt: string } }> {
    await this.ready;
    const counts = await this.db.query<{ state: string; n: number | string }>(
      'SELECT state, COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = $1 GROUP BY state',
      [webhookId],
    );
    const parkedStreams = await this.db.query<{ n: number | string }>(
      `SELECT COUNT(DISTINCT stream) AS n FROM webhook_deliveries WHERE webhook_id = $1 AND state = 'parked'`,
      [webhookId],
    );
    const [oldest] = await this.db.query<{ position: number | string; recorded_at: string }>(
      `SELECT d.position, d.recorded_at FROM webhook_deliveries d
       WHERE d.webhook_id = $1 AND d.state = 'pending' AND NOT EXISTS (
         SELECT 1 FROM webhook_deliveries p WHERE p.webhook_id = d.webhook_id AND p.stream = d.stream
           AND p.state = 'parked' AND p.position < d.position)
       ORDER BY d.position LIMIT 1`,
      [webhookId],
    );
    const pending = Number(counts.find((c) => c.state === 'pending')?.n ?? 0);
    return {
      pending,
      parked: Number(parkedStreams[0]?.n ?? 0),
      ...(oldest ? { oldest: { position: Number(oldest.position), recordedAt: oldest.recorded_at } } : {}),
    };
  }

  /**
   * Writes tries' outcomes with their attempt lines, the rows to keep (held behind a parking), each
   * webhook's delivered-through mark and its changes (failing since, disabled), in one transaction:
   * an attempt and the next try it schedules land together. A webhook deleted meanwhile gets nothing.
   */
  async record(
    outcomes: readonly DeliveryOutcome[],
    webhooks: ReadonlyMap<string, WebhookChanges> = new Map(),
    marks: {
      keep?: readonly Omit<DeliveryRow, 'state' | 'attempts'>[];
      deliveredThrough?: ReadonlyMap<string, number>;
    } = {},
  ): Promise<void> {
    await this.ready;
    outcomes = await this.sealResponses(outcomes);
    const ids = [
      ...new Set([
        ...outcomes.map((o) => o.webhookId),
        ...(marks.keep ?? []).map((r) => r.webhookId),
        ...(marks.deliveredThrough?.keys() ?? []),
      ]),
    ];
    await this.db.transaction(async (tx) => {
      // PostgreSQL: the share lock makes a concurrent delete wait for this transaction, or this wait for it.
      const lock = tx.dialect === 'postgres' ? ' FOR SHARE' : '';
      const existing = new Set<string>();
      for (const chunk of chunks(ids)) {
        const found = await tx.query<{ id: string }>(
          `SELECT id FROM webhooks WHERE id IN (${chunk.map((_, j) => `$${j + 1}`).join(', ')})${lock}`,
          chunk,
        );
        for (const f of found) existing.add(f.id);
      }
      const live = outcomes.filter((o) => existing.has(o.webhookId));
      for (const o of live) {
        const r = o.result;
        if (r.delivered) {
          if (r.persisted)
            await tx.run('DELETE FROM webhook_deliveries WHERE webhook_id = $1 AND position = $2', [
              o.webhookId,
              o.position,
            ]);
        } else {
          await tx.run(
            `INSERT INTO webhook_deliveries
               (webhook_id, position, stream, recorded_at, state, attempts, next_at, replay)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (webhook_id, position) DO UPDATE
               SET state = excluded.state, attempts = excluded.attempts, next_at = excluded.next_at`,
            [
              o.webhookId,
              o.position,
              r.stream,
              r.recordedAt,
              r.state,
              r.attempts,
              r.nextAt,
              r.replay ?? null,
            ],
          );
        }
      }
      const keep = (marks.keep ?? []).filter((r) => existing.has(r.webhookId));
      await insertRows(tx, keep);
      const lines = live.flatMap((o) => (o.attempt ? [o.attempt] : []));
      for (const chunk of chunks(lines)) {
        const values = chunk.map((_, j) => {
          const b = j * 11;
          return `(${Array.from({ length: 11 }, (_, k) => `$${b + k + 1}`).join(', ')})`;
        });
        await tx.run(
          `INSERT INTO webhook_attempts (webhook_id, position, message_id, attempt, at, status,
             duration_ms, response, error, outcome, next_at) VALUES ${values.join(', ')}`,
          chunk.flatMap((a) => [
            a.webhookId,
            a.position,
            a.messageId,
            a.attempt,
            a.at,
            a.status ?? null,
            a.durationMs,
            a.response ?? null,
            a.error ?? null,
            a.outcome,
            a.nextAt ?? null,
          ]),
        );
      }
      for (const [id, through] of marks.deliveredThrough ?? []) {
        if (!existing.has(id)) continue;
        await tx.run(
          `UPDATE webhooks SET delivered_through = CASE WHEN $2 > queued_through THEN queued_through ELSE $2 END
           WHERE id = $1`,
          [id, through],
        );
      }
      for (const [id, changes] of webhooks) if (existing.has(id)) await updateIn(tx, id, changes);
    });
  }

  /**
   * Resolves a parked stream: `retry` makes its parked deliveries due now with no failed attempt,
   * `skip` drops its queued deliveries up to `throughPosition`. Raises the revision. Returns the
   * deliveries changed.
   */
  async resolveParked(
    webhookId: string,
    stream: string,
    action: 'retry' | 'skip',
    throughPosition: number,
    now: number,
  ): Promise<number> {
    await this.ready;
    return this.db.transaction(async (tx) => {
      const n =
        action === 'retry'
          ? await tx.run(
              `UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_at = $3
               WHERE webhook_id = $1 AND stream = $2 AND state = 'parked'`,
              [webhookId, stream, now],
            )
          : await tx.run(
              'DELETE FROM webhook_deliveries WHERE webhook_id = $1 AND stream = $2 AND position <= $3',
              [webhookId, stream, throughPosition],
            );
      await tx.run('UPDATE webhooks SET revision = revision + 1 WHERE id = $1', [webhookId]);
      return n;
    });
  }

  /** The attempts log of a webhook, oldest first after `after`; of one position when given. */
  async attempts(
    webhookId: string,
    query: { limit: number; after?: number; position?: number },
  ): Promise<DeliveryAttempt[]> {
    await this.ready;
    const rows = await this.db.query<AttemptDbRow>(
      `SELECT * FROM webhook_attempts WHERE webhook_id = $1 AND seq > $2
         AND (CAST($3 AS BIGINT) IS NULL OR position = $3)
       ORDER BY seq LIMIT $4`,
      [webhookId, query.after ?? 0, query.position ?? null, query.limit],
    );
    const attempts = rows.map(toAttempt);
    if (this.responses === undefined || !attempts.some((a) => a.response !== undefined)) return attempts;
    const opened = await this.responses.open(attempts.map((a) => a.response ?? ''));
    return attempts.map((a, i) => (a.response === undefined ? a : { ...a, response: opened[i]! }));
  }

  /** The outcomes with the responses of their attempts sealed, when a sealing is set and the stream known. */
  private async sealResponses(outcomes: readonly DeliveryOutcome[]): Promise<readonly DeliveryOutcome[]> {
    const responses = this.responses;
    if (responses === undefined) return outcomes;
    const at = outcomes.flatMap((o, i) =>
      o.stream !== undefined && o.attempt?.response !== undefined ? [i] : [],
    );
    if (at.length === 0) return outcomes;
    const sealed = await responses.seal(
      at.map((i) => ({ stream: outcomes[i]!.stream!, response: outcomes[i]!.attempt!.response! })),
    );
    const out = [...outcomes];
    at.forEach((i, k) => {
      const o = outcomes[i]!;
      out[i] = { ...o, attempt: { ...o.attempt!, response: sealed[k]! } };
    });
    return out;
  }

  /**
   * Deletes the attempt lines recorded before `before` (RFC 3339) among the `limit` oldest (by `seq`,
   * which follows time within seconds): each call reads at most `limit` lines. Returns how many went.
   */
  async pruneAttempts(before: string, limit: number): Promise<number> {
    await this.ready;
    const [oldest] = await this.db.query<{ seq: number | string | null }>(
      'SELECT MIN(seq) AS seq FROM webhook_attempts',
    );
    if (oldest?.seq === null || oldest?.seq === undefined) return 0;
    const from = Number(oldest.seq);
    return this.db.run('DELETE FROM webhook_attempts WHERE seq >= $1 AND seq < $2 AND at < $3', [
      from,
      from + limit,
      before,
    ]);
  }

  private toRecord(r: WebhookRow): WebhookRecord {
    return {
      id: r.id,
      url: r.url,
      ...(r.description === null ? {} : { description: r.description }),
      filter: readJson<WebhookFilter>(this.db.dialect, r.filter),
      ...(r.event_versions === null || r.event_versions === undefined
        ? {}
        : { eventVersions: readJson<EventVersions>(this.db.dialect, r.event_versions) }),
      ratePerSecond: Number(r.rate_per_second),
      state: r.state,
      ...(r.disabled_reason === null ? {} : { disabledReason: r.disabled_reason }),
      ...(r.disabled_at === null ? {} : { disabledAt: r.disabled_at }),
      ...(r.province === null ? {} : { province: r.province }),
      createdBy: r.created_by,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      secret: r.secret,
      ...(r.previous_secret === null ? {} : { previousSecret: r.previous_secret }),
      ...(r.previous_secret_expires_at === null
        ? {}
        : { previousSecretExpiresAt: r.previous_secret_expires_at }),
      ...(r.secret_rotated_at === null ? {} : { secretRotatedAt: r.secret_rotated_at }),
      cursor: Number(r.queued_through),
      deliveredThrough: Number(r.delivered_through),
      ...(r.redeliver_through === null ? {} : { redeliverThrough: Number(r.redeliver_through) }),
      ...(r.redeliver_mark === null ? {} : { redeliverMark: r.redeliver_mark }),
      ...(r.failing_since === null ? {} : { failingSince: r.failing_since }),
      revision: Number(r.revision),
    };
  }
}

async function updateIn(
  tx: SqlExecutor,
  id: string,
  changes: WebhookChanges,
): Promise<WebhookRow | undefined> {
  const sets: string[] = [];
  const params: unknown[] = [id];
  for (const [key, column] of Object.entries(COLUMNS) as [keyof WebhookChanges, string][]) {
    const value = changes[key];
    if (value === undefined) continue;
    params.push(
      key === 'filter' ? JSON.stringify(value) : key === 'eventVersions' ? jsonOrNull(value) : value,
    );
    sets.push(`${column} = $${params.length}`);
  }
  sets.push('revision = revision + 1');
  const [row] = await tx.query<WebhookRow>(
    `UPDATE webhooks SET ${sets.join(', ')} WHERE id = $1 RETURNING *`,
    params,
  );
  return row;
}

/** A JSON column's value: null for null or an empty object (no choice made), else the JSON text. */
function jsonOrNull(value: unknown): string | null {
  if (
    value === null ||
    (typeof value === 'object' && Object.keys(value).length === 0 && !Array.isArray(value))
  )
    return null;
  return JSON.stringify(value);
}

/** Inserts queued rows (an event already queued for a webhook stays as it is); returns how many were new. */
/** Inserts delivery rows, one already there for the same event left as it is: their count, or with
 * `positions`, the positions inserted. */
async function insertRows(
  tx: SqlExecutor,
  rows: readonly Omit<DeliveryRow, 'state' | 'attempts'>[],
): Promise<number>;
async function insertRows(
  tx: SqlExecutor,
  rows: readonly Omit<DeliveryRow, 'state' | 'attempts'>[],
  positions: true,
): Promise<number[]>;
async function insertRows(
  tx: SqlExecutor,
  rows: readonly Omit<DeliveryRow, 'state' | 'attempts'>[],
  positions = false,
): Promise<number | number[]> {
  let added = 0;
  const inserted: number[] = [];
  for (const chunk of chunks(rows)) {
    const values = chunk.map((_, j) => {
      const b = j * 6;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, 'pending', 0, $${b + 5}, $${b + 6})`;
    });
    const sql = `INSERT INTO webhook_deliveries
         (webhook_id, position, stream, recorded_at, state, attempts, next_at, replay)
       VALUES ${values.join(', ')}
       ON CONFLICT (webhook_id, position) DO NOTHING`;
    const params = chunk.flatMap((r) => [
      r.webhookId,
      r.position,
      r.stream,
      r.recordedAt,
      r.nextAt,
      r.replay ?? null,
    ]);
    if (positions) {
      const rows = await tx.query<{ position: number | string }>(`${sql} RETURNING position`, params);
      for (const r of rows) inserted.push(Number(r.position));
    } else added += await tx.run(sql, params);
  }
  return positions ? inserted : added;
}

function toDeliveryRow(r: DeliveryDbRow): DeliveryRow {
  return {
    webhookId: r.webhook_id,
    position: Number(r.position),
    stream: r.stream,
    recordedAt: r.recorded_at,
    state: r.state,
    attempts: Number(r.attempts),
    nextAt: Number(r.next_at),
    ...(r.replay === null ? {} : { replay: r.replay }),
  };
}

function toAttempt(r: AttemptDbRow): DeliveryAttempt {
  return {
    seq: Number(r.seq),
    webhookId: r.webhook_id,
    position: Number(r.position),
    messageId: r.message_id,
    attempt: Number(r.attempt),
    at: r.at,
    ...(r.status === null ? {} : { status: Number(r.status) }),
    durationMs: Number(r.duration_ms),
    ...(r.response === null ? {} : { response: r.response }),
    ...(r.error === null ? {} : { error: r.error }),
    outcome: r.outcome,
    ...(r.next_at === null ? {} : { nextAt: r.next_at }),
  };
}
