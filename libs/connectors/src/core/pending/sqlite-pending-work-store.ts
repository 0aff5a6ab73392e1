import type { DatabaseSync } from 'node:sqlite';
import { applyMigrations, type Migration } from '#lgsp/event-store/sqlite';
import { PENDING_WORK_COMPONENT, type PendingItem, type PendingWorkStore } from './pending-work-store.js';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'connector follow-up work (pending payments, undecided registrations)',
    sql: `
      CREATE TABLE connector_pending (
        target TEXT NOT NULL,
        key TEXT NOT NULL,
        dossier TEXT NOT NULL,
        payload TEXT NOT NULL,
        due_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (target, key)
      ) STRICT;
      CREATE INDEX connector_pending_due ON connector_pending (target, due_at);
    `,
  },
];

interface Row {
  target: string;
  key: string;
  dossier: string;
  payload: string;
  due_at: number;
  attempts: number;
  created_at: string;
}

const toItem = (r: Row): PendingItem => ({
  target: r.target,
  key: r.key,
  dossier: r.dossier,
  payload: JSON.parse(r.payload) as unknown,
  dueAt: Number(r.due_at),
  attempts: Number(r.attempts),
  createdAt: r.created_at,
});

/** Pending follow-up work in the embedded SQLite file, beside the events; each call is one statement. */
export class SqlitePendingWorkStore implements PendingWorkStore {
  constructor(private readonly db: DatabaseSync) {
    applyMigrations(db, PENDING_WORK_COMPONENT, MIGRATIONS);
  }

  async schedule(item: Omit<PendingItem, 'attempts'> & { attempts?: number }): Promise<boolean> {
    const r = this.db
      .prepare(
        `INSERT INTO connector_pending (target, key, dossier, payload, due_at, attempts, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (target, key) DO NOTHING`,
      )
      .run(
        item.target,
        item.key,
        item.dossier,
        JSON.stringify(item.payload ?? null),
        Math.trunc(item.dueAt),
        item.attempts ?? 0,
        item.createdAt,
      );
    return Number(r.changes) === 1;
  }

  async due(target: string, now: number, limit: number): Promise<PendingItem[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM connector_pending WHERE target = ? AND due_at <= ? ORDER BY due_at, key LIMIT ?`,
      )
      .all(target, Math.trunc(now), limit) as unknown as Row[];
    return rows.map(toItem);
  }

  async reschedule(
    target: string,
    key: string,
    dueAt: number,
    attempts: number,
    payload?: unknown,
  ): Promise<void> {
    if (payload === undefined) {
      this.db
        .prepare(`UPDATE connector_pending SET due_at = ?, attempts = ? WHERE target = ? AND key = ?`)
        .run(Math.trunc(dueAt), attempts, target, key);
    } else {
      this.db
        .prepare(
          `UPDATE connector_pending SET due_at = ?, attempts = ?, payload = ? WHERE target = ? AND key = ?`,
        )
        .run(Math.trunc(dueAt), attempts, JSON.stringify(payload), target, key);
    }
  }

  async complete(target: string, key: string): Promise<void> {
    this.db.prepare(`DELETE FROM connector_pending WHERE target = ? AND key = ?`).run(target, key);
  }

  async get(target: string, key: string): Promise<PendingItem | undefined> {
    const row = this.db
      .prepare(`SELECT * FROM connector_pending WHERE target = ? AND key = ?`)
      .get(target, key) as unknown as Row | undefined;
    return row === undefined ? undefined : toItem(row);
  }

  async count(target: string): Promise<number> {
    const row = this.db
      .prepare(`SELECT count(*) AS n FROM connector_pending WHERE target = ?`)
      .get(target) as {
      n: number;
    };
    return Number(row.n);
  }
}
