import {
  SqlSchema,
  TurnBatch,
  durableWithNextCommit,
  readJson,
  sqlMigration,
  type SqlColumnTypes,
  type SqlDatabase,
  type SqlExecutor,
} from '#lgsp/storage';
import { PENDING_WORK_COMPONENT, type PendingItem, type PendingWorkStore } from './pending-work-store.js';

const pendingTable = (types: SqlColumnTypes) => `
  CREATE TABLE connector_pending (
    target TEXT NOT NULL,
    key TEXT NOT NULL,
    dossier TEXT NOT NULL,
    payload ${types.json} NOT NULL,
    due_at ${types.big} NOT NULL,
    attempts INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (target, key)
  )${types.strict};
  CREATE INDEX connector_pending_due ON connector_pending (target, due_at);
`;

const SCHEMA = new SqlSchema(PENDING_WORK_COMPONENT, [
  sqlMigration(1, 'connector follow-up work (pending payments, undecided registrations)', pendingTable),
  sqlMigration(
    2,
    'the replay that asked for the work',
    () => 'ALTER TABLE connector_pending ADD COLUMN replay TEXT;',
  ),
]);

type ScheduledItem = Omit<PendingItem, 'attempts'> & { attempts?: number };

interface Row {
  target: string;
  key: string;
  dossier: string;
  payload: unknown;
  due_at: number | string;
  attempts: number;
  created_at: string;
  replay?: string | null;
}

/**
 * Pending follow-up work beside the events (the SQLite file or the PostgreSQL schema shared by every
 * replica): each call is one statement, so two replicas scheduling the same key keep one item. Two
 * replicas may poll the same due item; the events a poll appends are deduplicated by (source, id), so
 * that costs a call, not a duplicate.
 */
export class SqlPendingWorkStore implements PendingWorkStore {
  /** Creates or migrates the table (see {@link SqlSchema.opener}). */
  static readonly open = SCHEMA.opener((db) => new SqlPendingWorkStore(db));

  /**
   * The items scheduled in one turn of the event loop, written in one transaction that on SQLite has no
   * fsync of its own (see durableWithNextCommit): the connectors schedule work for several dossiers at
   * once (8 in flight), and a durable commit each was most of a payment's cost in the hub. A crash of
   * the process loses nothing; a power loss can lose only items no synced commit followed, and the next
   * one comes with the connector's checkpoint after its batch (a replay's progress after its chunk):
   * until then the batch has not counted as delivered, and is delivered again, scheduling the same work
   * (the target answers the same transaction for the same reference).
   */
  private readonly schedules: TurnBatch<ScheduledItem, boolean>;

  private constructor(private readonly db: SqlDatabase) {
    this.schedules = new TurnBatch((items) =>
      durableWithNextCommit(this.db, async (tx) => {
        const added: boolean[] = [];
        for (const item of items) added.push(await this.insert(tx, item));
        return added;
      }),
    );
  }

  /** Written when it resolves (see {@link schedules}): true when added, false when the (target, key) was scheduled already. */
  schedule(item: ScheduledItem): Promise<boolean> {
    return this.schedules.add(item);
  }

  private async insert(db: SqlExecutor, item: ScheduledItem): Promise<boolean> {
    const added = await db.run(
      `INSERT INTO connector_pending (target, key, dossier, payload, due_at, attempts, created_at, replay)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (target, key) DO NOTHING`,
      [
        item.target,
        item.key,
        item.dossier,
        JSON.stringify(item.payload ?? null),
        Math.trunc(item.dueAt),
        item.attempts ?? 0,
        item.createdAt,
        item.replay ?? null,
      ],
    );
    return added === 1;
  }

  async due(target: string, now: number, limit: number): Promise<PendingItem[]> {
    const rows = await this.db.query<Row>(
      'SELECT * FROM connector_pending WHERE target = $1 AND due_at <= $2 ORDER BY due_at, key LIMIT $3',
      [target, Math.trunc(now), limit],
    );
    return rows.map((r) => this.toItem(r));
  }

  async reschedule(
    target: string,
    key: string,
    dueAt: number,
    attempts: number,
    payload?: unknown,
  ): Promise<void> {
    const json = this.db.dialect === 'postgres' ? '::jsonb' : '';
    await this.db.run(
      `UPDATE connector_pending SET due_at = $3, attempts = $4, payload = COALESCE($5${json}, payload)
       WHERE target = $1 AND key = $2`,
      [target, key, Math.trunc(dueAt), attempts, payload === undefined ? null : JSON.stringify(payload)],
    );
  }

  async complete(target: string, key: string): Promise<void> {
    await this.db.run('DELETE FROM connector_pending WHERE target = $1 AND key = $2', [target, key]);
  }

  async get(target: string, key: string): Promise<PendingItem | undefined> {
    const [row] = await this.db.query<Row>('SELECT * FROM connector_pending WHERE target = $1 AND key = $2', [
      target,
      key,
    ]);
    return row && this.toItem(row);
  }

  async count(target: string): Promise<number> {
    const [row] = await this.db.query<{ n: number | string }>(
      'SELECT count(*) AS n FROM connector_pending WHERE target = $1',
      [target],
    );
    return Number(row?.n ?? 0);
  }

  private toItem(r: Row): PendingItem {
    return {
      target: r.target,
      key: r.key,
      dossier: r.dossier,
      payload: readJson(this.db.dialect, r.payload),
      dueAt: Number(r.due_at),
      attempts: Number(r.attempts),
      createdAt: r.created_at,
      ...(r.replay === null || r.replay === undefined ? {} : { replay: r.replay }),
    };
  }
}
