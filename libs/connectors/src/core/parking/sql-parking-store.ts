import {
  MigratingSqlStore,
  SqlSchema,
  durableWithNextCommit,
  sqlMigration,
  whenMigrated,
  type SqlColumnTypes,
  type SqlDatabase,
  type SqlDialect,
  type SqlExecutor,
} from '#lgsp/storage';
import {
  NotParkedError,
  PARKING_COMPONENT,
  parkedEntry,
  resolutionEntry,
  type ListParkedQuery,
  type ParkRequest,
  type ParkedItem,
  type ParkingHistoryEntry,
  type ParkingResolution,
  type ParkingStore,
  type SkipResolution,
  type DeliveredPosition,
  type TargetSyncState,
} from './parking-store.js';
import { toHistoryEntry, toParkedItem, type HistoryRow, type ParkedRow } from './rows.js';

const tables = (t: SqlColumnTypes, dialect: SqlDialect) => `
  CREATE TABLE connector_parking (
    id ${t.serial},
    target TEXT NOT NULL,
    dossier TEXT NOT NULL,
    reason TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('retriable', 'data')),
    attempts INTEGER NOT NULL,
    first_position ${t.big} NOT NULL,
    last_position ${t.big} NOT NULL,
    last_error TEXT NOT NULL,
    parked_at TEXT NOT NULL,
    ${dialect === 'postgres' ? 'CONSTRAINT connector_parking_pair ' : ''}UNIQUE (target, dossier)
  )${t.strict};
  CREATE TABLE connector_parking_history (
    seq ${t.serial},
    target TEXT NOT NULL,
    dossier TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('parked', 'retried', 'skipped')),
    at TEXT NOT NULL,
    by TEXT NOT NULL,
    note TEXT,
    kind TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    from_position ${t.big} NOT NULL,
    through_position ${t.big} NOT NULL
  )${t.strict};
  CREATE INDEX connector_parking_history_pair ON connector_parking_history (target, dossier, seq);
`;

// Positions are 64-bit integers like the events' position.
const SCHEMA = new SqlSchema(PARKING_COMPONENT, [
  sqlMigration(1, 'connector parking and its history', tables),
  sqlMigration(
    2,
    'the last position each target took of each dossier',
    (t) => `
  CREATE TABLE connector_delivered (
    target TEXT NOT NULL,
    dossier TEXT NOT NULL,
    last_position ${t.big} NOT NULL,
    delivered_at TEXT NOT NULL,
    PRIMARY KEY (dossier, target)
  )${t.strict};
`,
  ),
]);

const historyValues = (e: ParkingHistoryEntry): unknown[] => [
  e.target,
  e.dossier,
  e.action,
  e.at,
  e.by,
  e.note ?? null,
  e.kind,
  e.attempts,
  e.lastError,
  e.fromPosition,
  e.throughPosition,
];

const INSERT_HISTORY = `INSERT INTO connector_parking_history
  (target, dossier, action, at, by, note, kind, attempts, last_error, from_position, through_position)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`;

const FIND = 'SELECT * FROM connector_parking WHERE target = $1 AND dossier = $2';

/**
 * Parked (target, dossier) pairs beside the events (the SQLite file, or the PostgreSQL schema shared
 * by every connector worker). Every write is one transaction: the pair's unique constraint decides
 * between two workers parking it at once, and a resolution holds the row (PostgreSQL: a row lock,
 * SQLite: the write lock of `BEGIN IMMEDIATE`), so a retry and a skip of one parking cannot both succeed.
 */
export class SqlParkingStore extends MigratingSqlStore implements ParkingStore {
  /**
   * Usable at once (see {@link MigratingSqlStore}): connectors and their tests build one where
   * nothing can be awaited, often on SQLite in memory.
   */
  constructor(db: SqlDatabase) {
    super(db, SCHEMA);
  }

  /**
   * Creates or migrates the parking tables. The database stays the caller's to close.
   * @throws StoreUnavailableError when the database cannot be reached or holds a newer schema.
   */
  static async open(db: SqlDatabase): Promise<SqlParkingStore> {
    return whenMigrated(new SqlParkingStore(db));
  }

  async park(target: string, dossier: string, request: ParkRequest): Promise<ParkedItem> {
    await this.ready;
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<ParkedRow>(
        `INSERT INTO connector_parking
           (target, dossier, reason, kind, attempts, first_position, last_position, last_error, parked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8)
         ON CONFLICT (target, dossier) DO NOTHING
         RETURNING *`,
        [
          target,
          dossier,
          request.reason,
          request.kind,
          request.attempts,
          request.firstPosition,
          request.lastError,
          request.parkedAt,
        ],
      );
      // ON CONFLICT DO NOTHING waited for the other insert to commit, so its row is visible.
      if (row === undefined) return (await find(tx, target, dossier))!;
      const parked = toParkedItem(row);
      await tx.run(INSERT_HISTORY, historyValues(parkedEntry(parked)));
      return parked;
    });
  }

  async isParked(target: string, dossier: string): Promise<boolean> {
    return (await this.get(target, dossier)) !== undefined;
  }

  async hold(target: string, dossier: string, position: number): Promise<boolean> {
    await this.ready;
    const changed = await this.db.run(
      `UPDATE connector_parking
       SET last_position = CASE WHEN last_position < $3 THEN $3 ELSE last_position END
       WHERE target = $1 AND dossier = $2`,
      [target, dossier, position],
    );
    return changed > 0;
  }

  async get(target: string, dossier: string): Promise<ParkedItem | undefined> {
    await this.ready;
    return find(this.db, target, dossier);
  }

  async list(query: ListParkedQuery): Promise<ParkedItem[]> {
    await this.ready;
    const rows = await this.db.query<ParkedRow>(
      `SELECT * FROM connector_parking
       WHERE (CAST($1 AS TEXT) IS NULL OR target = $1) AND id > $2 ORDER BY id LIMIT $3`,
      [query.target ?? null, query.after ?? 0, query.limit],
    );
    return rows.map(toParkedItem);
  }

  async countByTarget(): Promise<Map<string, number>> {
    await this.ready;
    const rows = await this.db.query<{ target: string; n: number | string }>(
      'SELECT target, COUNT(*) AS n FROM connector_parking GROUP BY target',
    );
    return new Map(rows.map((r) => [r.target, Number(r.n)]));
  }

  async retry(target: string, dossier: string, resolution: ParkingResolution): Promise<ParkingHistoryEntry> {
    return this.resolve(target, dossier, 'retried', resolution);
  }

  async skip(target: string, dossier: string, resolution: SkipResolution): Promise<ParkingHistoryEntry> {
    return this.resolve(target, dossier, 'skipped', resolution);
  }

  async history(target: string, dossier: string): Promise<ParkingHistoryEntry[]> {
    await this.ready;
    const rows = await this.db.query<HistoryRow>(
      'SELECT * FROM connector_parking_history WHERE target = $1 AND dossier = $2 ORDER BY seq',
      [target, dossier],
    );
    return rows.map(toHistoryEntry);
  }

  async delivered(deliveries: readonly DeliveredPosition[]): Promise<void> {
    if (deliveries.length === 0) return;
    await this.ready;
    // One statement per pair: a batch touches a few dossiers, and each upsert keeps the higher position.
    // Without an fsync of its own on SQLite: the next synced commit on the file makes it durable (the
    // connector's checkpoint after its batch, a replay's progress after its chunk), and a batch whose
    // checkpoint was lost is delivered, and recorded, again. A crash of the process loses nothing.
    await durableWithNextCommit(this.db, async (tx) => {
      for (const d of deliveries) {
        await tx.run(
          `INSERT INTO connector_delivered (target, dossier, last_position, delivered_at)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (dossier, target) DO UPDATE
             SET last_position = excluded.last_position, delivered_at = excluded.delivered_at
             WHERE excluded.last_position >= connector_delivered.last_position`,
          [d.target, d.dossier, d.position, d.at],
        );
      }
    });
  }

  async syncOf(dossier: string): Promise<TargetSyncState[]> {
    await this.ready;
    const delivered = await this.db.query<{
      target: string;
      last_position: number | string;
      delivered_at: string;
    }>('SELECT target, last_position, delivered_at FROM connector_delivered WHERE dossier = $1', [dossier]);
    const parked = await this.db.query<{ target: string; reason: string }>(
      'SELECT target, reason FROM connector_parking WHERE dossier = $1',
      [dossier],
    );
    const byTarget = new Map<string, TargetSyncState>();
    for (const d of delivered) {
      byTarget.set(d.target, {
        target: d.target,
        lastPosition: Number(d.last_position),
        lastDeliveredAt: d.delivered_at,
        parked: false,
      });
    }
    for (const p of parked) {
      const known = byTarget.get(p.target);
      byTarget.set(p.target, {
        ...(known ?? { target: p.target, lastPosition: null, lastDeliveredAt: null }),
        parked: true,
        parkedReason: p.reason,
      });
    }
    return [...byTarget.values()].sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
  }

  private async resolve(
    target: string,
    dossier: string,
    action: 'retried' | 'skipped',
    resolution: SkipResolution,
  ): Promise<ParkingHistoryEntry> {
    await this.ready;
    return this.db.transaction(async (tx) => {
      const parked = await find(tx, target, dossier, tx.dialect === 'postgres' ? ' FOR UPDATE' : '');
      if (!parked) throw new NotParkedError(target, dossier);
      const entry = resolutionEntry(parked, action, resolution);
      await tx.run('DELETE FROM connector_parking WHERE id = $1', [parked.id]);
      await tx.run(INSERT_HISTORY, historyValues(entry));
      return entry;
    });
  }
}

async function find(
  on: SqlExecutor,
  target: string,
  dossier: string,
  lock = '',
): Promise<ParkedItem | undefined> {
  const [row] = await on.query<ParkedRow>(`${FIND}${lock}`, [target, dossier]);
  return row && toParkedItem(row);
}
