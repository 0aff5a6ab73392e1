import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { type StoredEvent } from '#lgsp/event-store';
import { applyMigrations, runInTransaction, type Migration } from '#lgsp/event-store/sqlite';
import { assertCheckpoint, foldBatch } from './dossier-batch.js';
import type { DossierView } from './dossier-view.js';
import {
  DOSSIER_VIEWS_COMPONENT,
  type ApplyBatchOptions,
  type ApplyBatchResult,
  type DossierViewRepository,
} from './dossier-view-repository.js';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'dossier_views',
    sql: `
      CREATE TABLE dossier_views (
        dossier_code TEXT PRIMARY KEY,
        province_code TEXT NOT NULL,
        commune_code TEXT NOT NULL,
        last_position INTEGER NOT NULL,
        view TEXT NOT NULL
      ) STRICT;
      CREATE INDEX dossier_views_by_province ON dossier_views (province_code, commune_code);
    `,
  },
  {
    version: 2,
    description: 'dossier_views_checkpoint',
    sql: `
      CREATE TABLE dossier_views_checkpoint (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        position INTEGER NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
    `,
  },
];

/**
 * Dossier views in a SQLite file, normally a projection database of their own (see
 * `openProjectionDatabase`), so that the projection's commits never wait for the event store's
 * write lock. Each batch is one transaction, with the checkpoint it is given. Constructing it creates
 * or migrates the tables; other connections to the file may then read them.
 */
export class SqliteDossierViewRepository implements DossierViewRepository {
  private readonly select: StatementSync;
  private readonly upsert: StatementSync;
  private readonly selectCheckpoint: StatementSync;
  private readonly upsertCheckpoint: StatementSync;

  constructor(private readonly db: DatabaseSync) {
    applyMigrations(db, DOSSIER_VIEWS_COMPONENT, MIGRATIONS);
    this.select = db.prepare('SELECT last_position, view FROM dossier_views WHERE dossier_code = ?');
    this.upsert = db.prepare(
      `INSERT INTO dossier_views (dossier_code, province_code, commune_code, last_position, view)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (dossier_code) DO UPDATE SET
         province_code = excluded.province_code,
         commune_code = excluded.commune_code,
         last_position = excluded.last_position,
         view = excluded.view`,
    );
    this.selectCheckpoint = db.prepare('SELECT position FROM dossier_views_checkpoint WHERE id = 1');
    this.upsertCheckpoint = db.prepare(
      `INSERT INTO dossier_views_checkpoint (id, position, updated_at) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
    );
  }

  async checkpoint(): Promise<number> {
    const row = this.selectCheckpoint.get();
    return row === undefined ? 0 : (row.position as number);
  }

  async get(dossierCode: string): Promise<DossierView | undefined> {
    const row = this.select.get(dossierCode);
    return row === undefined ? undefined : (JSON.parse(row.view as string) as DossierView);
  }

  async applyBatch(
    events: readonly StoredEvent[],
    options: ApplyBatchOptions = {},
  ): Promise<ApplyBatchResult> {
    const { checkpoint } = options;
    assertCheckpoint(checkpoint);
    return runInTransaction(this.db, () => {
      const { changed, applied, skipped } = foldBatch(events, (code) => {
        const row = this.select.get(code);
        return row === undefined
          ? undefined
          : {
              view: JSON.parse(row.view as string) as DossierView,
              lastPosition: row.last_position as number,
            };
      });
      for (const [code, { view, lastPosition }] of changed) {
        this.upsert.run(code, view.provinceCode, view.communeCode, lastPosition, JSON.stringify(view));
      }
      if (checkpoint !== undefined) this.upsertCheckpoint.run(checkpoint, new Date().toISOString());
      return { applied, skipped, dossiers: changed.size };
    });
  }
}
