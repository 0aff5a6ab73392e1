import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { applyMigrations, runInTransaction, type Migration } from '#lgsp/event-store/sqlite';
import { toHistoryEntry, toParkedItem, type HistoryRow, type ParkedRow } from './rows.js';
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
} from './parking-store.js';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'connector parking and its history',
    sql: `
      CREATE TABLE connector_parking (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        target TEXT NOT NULL,
        dossier TEXT NOT NULL,
        reason TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('retriable', 'data')),
        attempts INTEGER NOT NULL,
        first_position INTEGER NOT NULL,
        last_position INTEGER NOT NULL,
        last_error TEXT NOT NULL,
        parked_at TEXT NOT NULL,
        UNIQUE (target, dossier)
      ) STRICT;
      CREATE TABLE connector_parking_history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        target TEXT NOT NULL,
        dossier TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('parked', 'retried', 'skipped')),
        at TEXT NOT NULL,
        by TEXT NOT NULL,
        note TEXT,
        kind TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT NOT NULL,
        from_position INTEGER NOT NULL,
        through_position INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX connector_parking_history_pair ON connector_parking_history (target, dossier, seq);
    `,
  },
];

const historyValues = (e: ParkingHistoryEntry): SQLInputValue[] => [
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
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * Parked (target, dossier) pairs in the embedded SQLite file, beside the events. Every write is one
 * `BEGIN IMMEDIATE` transaction, so two processes on the file park a pair once.
 */
export class SqliteParkingStore implements ParkingStore {
  /** The statements every delivery runs (the gate's hold check, the replay's isParked), prepared once. */
  private readonly holdStatement: StatementSync;
  private readonly findStatement: StatementSync;

  constructor(private readonly db: DatabaseSync) {
    applyMigrations(db, PARKING_COMPONENT, MIGRATIONS);
    this.holdStatement = db.prepare(
      `UPDATE connector_parking SET last_position = MAX(last_position, ?) WHERE target = ? AND dossier = ?`,
    );
    this.findStatement = db.prepare('SELECT * FROM connector_parking WHERE target = ? AND dossier = ?');
  }

  async park(target: string, dossier: string, request: ParkRequest): Promise<ParkedItem> {
    return runInTransaction(this.db, () => {
      const existing = this.find(target, dossier);
      if (existing) return existing;
      this.db
        .prepare(
          `INSERT INTO connector_parking
             (target, dossier, reason, kind, attempts, first_position, last_position, last_error, parked_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          target,
          dossier,
          request.reason,
          request.kind,
          request.attempts,
          request.firstPosition,
          request.firstPosition,
          request.lastError,
          request.parkedAt,
        );
      const parked = this.find(target, dossier)!;
      this.db.prepare(INSERT_HISTORY).run(...historyValues(parkedEntry(parked)));
      return parked;
    });
  }

  async isParked(target: string, dossier: string): Promise<boolean> {
    return this.find(target, dossier) !== undefined;
  }

  async hold(target: string, dossier: string, position: number): Promise<boolean> {
    const { changes } = this.holdStatement.run(position, target, dossier);
    return Number(changes) > 0;
  }

  async get(target: string, dossier: string): Promise<ParkedItem | undefined> {
    return this.find(target, dossier);
  }

  async list(query: ListParkedQuery): Promise<ParkedItem[]> {
    const rows =
      query.target === undefined
        ? this.db
            .prepare('SELECT * FROM connector_parking WHERE id > ? ORDER BY id LIMIT ?')
            .all(query.after ?? 0, query.limit)
        : this.db
            .prepare('SELECT * FROM connector_parking WHERE target = ? AND id > ? ORDER BY id LIMIT ?')
            .all(query.target, query.after ?? 0, query.limit);
    return (rows as unknown as ParkedRow[]).map(toParkedItem);
  }

  async retry(target: string, dossier: string, resolution: ParkingResolution): Promise<ParkingHistoryEntry> {
    return this.resolve(target, dossier, 'retried', resolution);
  }

  async skip(target: string, dossier: string, resolution: SkipResolution): Promise<ParkingHistoryEntry> {
    return this.resolve(target, dossier, 'skipped', resolution);
  }

  async history(target: string, dossier: string): Promise<ParkingHistoryEntry[]> {
    const rows = this.db
      .prepare('SELECT * FROM connector_parking_history WHERE target = ? AND dossier = ? ORDER BY seq')
      .all(target, dossier);
    return (rows as unknown as HistoryRow[]).map(toHistoryEntry);
  }

  private resolve(
    target: string,
    dossier: string,
    action: 'retried' | 'skipped',
    resolution: SkipResolution,
  ): ParkingHistoryEntry {
    return runInTransaction(this.db, () => {
      const parked = this.find(target, dossier);
      if (!parked) throw new NotParkedError(target, dossier);
      const entry = resolutionEntry(parked, action, resolution);
      this.db.prepare('DELETE FROM connector_parking WHERE id = ?').run(parked.id);
      this.db.prepare(INSERT_HISTORY).run(...historyValues(entry));
      return entry;
    });
  }

  private find(target: string, dossier: string): ParkedItem | undefined {
    const row = this.findStatement.get(target, dossier) as ParkedRow | undefined;
    return row ? toParkedItem(row) : undefined;
  }
}
