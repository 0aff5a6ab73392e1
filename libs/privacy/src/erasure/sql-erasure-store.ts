import {
  MigratingSqlStore,
  SqlSchema,
  sqlMigration,
  whenMigrated,
  type SqlColumnTypes,
  type SqlDatabase,
} from '#lgsp/storage';
import { ERASURES_COMPONENT, type ErasureRecord, type ErasureState } from './model.js';

// `privacy_erasures`: one row per request, the record as JSON beside the columns lists filter on.
// `privacy_dossier_ends`: the dossiers that ended (their last status is final) and when, for the
// retention; `position` is that of the last status event seen, so replicas scanning the log in any
// order write the same row.
const tables = (t: SqlColumnTypes) => `
  CREATE TABLE privacy_erasures (
    id TEXT PRIMARY KEY,
    subject_ref TEXT NOT NULL,
    state TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    record TEXT NOT NULL
  )${t.strict};
  CREATE INDEX privacy_erasures_subject ON privacy_erasures (subject_ref);
  CREATE TABLE privacy_dossier_ends (
    dossier_code TEXT PRIMARY KEY,
    ended_at TEXT,
    position ${t.big} NOT NULL,
    checked_at TEXT
  )${t.strict};
  CREATE INDEX privacy_dossier_ends_due ON privacy_dossier_ends (ended_at);
`;

const SCHEMA = new SqlSchema(ERASURES_COMPONENT, [
  sqlMigration(1, 'erasure requests and the dossiers that ended (retention)', tables),
]);

/** A dossier's end as the retention knows it. */
export interface DossierEnd {
  dossierCode: string;
  /** When its final status was set; null once it was reopened. */
  endedAt: string | null;
  /** The log position of the status event this row reflects. */
  position: number;
}

/** Erasure requests, and the dossiers' ends the retention works from, in the hub's own store. */
export class SqlErasureStore extends MigratingSqlStore {
  private constructor(db: SqlDatabase) {
    super(db, SCHEMA);
  }

  static open(db: SqlDatabase): Promise<SqlErasureStore> {
    return whenMigrated(new SqlErasureStore(db));
  }

  async create(record: ErasureRecord): Promise<void> {
    await this.ready;
    await this.db.run(
      'INSERT INTO privacy_erasures (id, subject_ref, state, requested_at, record) VALUES ($1, $2, $3, $4, $5)',
      [record.id, record.subjectRef, record.state, record.requestedAt, JSON.stringify(record)],
    );
  }

  async get(id: string): Promise<ErasureRecord | undefined> {
    await this.ready;
    const [row] = await this.db.query<{ record: string }>(
      'SELECT record FROM privacy_erasures WHERE id = $1',
      [id],
    );
    return row === undefined ? undefined : (JSON.parse(row.record) as ErasureRecord);
  }

  /** Requests in id (creation) order after `after`, at most `limit`. */
  async list(query: { limit: number; after?: string }): Promise<ErasureRecord[]> {
    await this.ready;
    const rows = await this.db.query<{ record: string }>(
      'SELECT record FROM privacy_erasures WHERE id > $1 ORDER BY id LIMIT $2',
      [query.after ?? '', query.limit],
    );
    return rows.map((r) => JSON.parse(r.record) as ErasureRecord);
  }

  /**
   * Writes `record` over the stored one if that is still in state `from` (a request is decided once);
   * false when another call decided it first.
   */
  async update(record: ErasureRecord, from: ErasureState): Promise<boolean> {
    await this.ready;
    const changed = await this.db.run(
      'UPDATE privacy_erasures SET state = $2, record = $3 WHERE id = $1 AND state = $4',
      [record.id, record.state, JSON.stringify(record), from],
    );
    return changed === 1;
  }

  /** Records a dossier's end (or reopening) seen at `position`, unless a later status is recorded already. */
  async recordEnd(end: DossierEnd): Promise<void> {
    await this.ready;
    await this.db.run(
      `INSERT INTO privacy_dossier_ends (dossier_code, ended_at, position, checked_at) VALUES ($1, $2, $3, NULL)
       ON CONFLICT (dossier_code) DO UPDATE SET ended_at = excluded.ended_at, position = excluded.position,
         checked_at = NULL
       WHERE privacy_dossier_ends.position < excluded.position`,
      [end.dossierCode, end.endedAt, end.position],
    );
  }

  /** Dossiers that ended before `cutoff` and were not checked since, oldest end first. */
  async endedBefore(cutoff: string, limit: number): Promise<DossierEnd[]> {
    await this.ready;
    const rows = await this.db.query<{ dossier_code: string; ended_at: string; position: number | string }>(
      `SELECT dossier_code, ended_at, position FROM privacy_dossier_ends
       WHERE ended_at IS NOT NULL AND ended_at < $1 AND checked_at IS NULL
       ORDER BY ended_at, dossier_code LIMIT $2`,
      [cutoff, limit],
    );
    return rows.map((r) => ({
      dossierCode: r.dossier_code,
      endedAt: r.ended_at,
      position: Number(r.position),
    }));
  }

  /** The recorded end of a dossier, undefined when none was seen. */
  async end(dossierCode: string): Promise<DossierEnd | undefined> {
    await this.ready;
    const [row] = await this.db.query<{ ended_at: string | null; position: number | string }>(
      'SELECT ended_at, position FROM privacy_dossier_ends WHERE dossier_code = $1',
      [dossierCode],
    );
    return row && { dossierCode, endedAt: row.ended_at, position: Number(row.position) };
  }

  /** Marks a dossier's end as checked by the retention (until a later status event changes it). */
  async markChecked(end: DossierEnd, at: string): Promise<void> {
    await this.ready;
    await this.db.run(
      'UPDATE privacy_dossier_ends SET checked_at = $2 WHERE dossier_code = $1 AND position = $3',
      [end.dossierCode, at, end.position],
    );
  }
}
