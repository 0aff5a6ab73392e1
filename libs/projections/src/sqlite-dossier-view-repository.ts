import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { applyMigrations, runInTransaction, type Migration, type StoredEvent } from '#lgsp/event-store';
import { dossierCodeOf, evolveDossier, type DossierView } from './dossier-view.js';
import type { ApplyBatchResult, DossierViewRepository } from './dossier-view-repository.js';

/** The component name the dossier views are versioned under in `schema_version`. */
export const DOSSIER_VIEWS_COMPONENT = 'projection.dossiers';

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
];

/**
 * Dossier views in a SQLite file, normally the event store's own (`SqliteEventStore.database`), so
 * the projection needs no second database. Each batch is one transaction.
 */
export class SqliteDossierViewRepository implements DossierViewRepository {
  private readonly select: StatementSync;
  private readonly upsert: StatementSync;

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
  }

  async get(dossierCode: string): Promise<DossierView | undefined> {
    const row = this.select.get(dossierCode);
    return row === undefined ? undefined : (JSON.parse(row.view as string) as DossierView);
  }

  async applyBatch(events: readonly StoredEvent[]): Promise<ApplyBatchResult> {
    return runInTransaction(this.db, () => {
      const touched = new Map<
        string,
        { view: DossierView | undefined; lastPosition: number; dirty: boolean }
      >();
      let applied = 0;
      let skipped = 0;
      for (const event of events) {
        const code = dossierCodeOf(event);
        if (code === undefined) {
          skipped += 1;
          continue;
        }
        let entry = touched.get(code);
        if (entry === undefined) {
          const row = this.select.get(code);
          entry =
            row === undefined
              ? { view: undefined, lastPosition: 0, dirty: false }
              : {
                  view: JSON.parse(row.view as string) as DossierView,
                  lastPosition: row.last_position as number,
                  dirty: false,
                };
          touched.set(code, entry);
        }
        if (event.position <= entry.lastPosition) {
          skipped += 1;
          continue;
        }
        entry.view = evolveDossier(entry.view, event);
        entry.lastPosition = event.position;
        entry.dirty = true;
        applied += 1;
      }
      let dossiers = 0;
      for (const [code, { view, lastPosition, dirty }] of touched) {
        if (!dirty || view === undefined) continue;
        this.upsert.run(code, view.provinceCode, view.communeCode, lastPosition, JSON.stringify(view));
        dossiers += 1;
      }
      return { applied, skipped, dossiers };
    });
  }
}
