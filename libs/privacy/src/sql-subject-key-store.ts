import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import {
  MigratingSqlStore,
  SqlSchema,
  sqlMigration,
  whenMigrated,
  type SqlColumnTypes,
  type SqlDatabase,
  type SqlExecutor,
} from '#lgsp/storage';
import { PRIVACY_COMPONENT } from './model.js';
import type {
  KeyWrapper,
  SealingKey,
  SealingRequest,
  SubjectKeyProvider,
  SubjectKeyState,
} from './subject-keys.js';

// `privacy_subject_keys`: one row per key; a subject has at most one live key (destroyed_at NULL). A
// destroyed key's bytes are overwritten with NULL. `privacy_subject_streams` links subjects to the streams
// their data was sealed into (for erasure's `person.erased` events and the retention). `privacy_secrets`
// holds the secret of the subject references.
const tables = (t: SqlColumnTypes) => `
  CREATE TABLE privacy_subject_keys (
    kid TEXT PRIMARY KEY,
    ref TEXT NOT NULL,
    key_material TEXT,
    wrapped_by TEXT,
    created_at TEXT NOT NULL,
    destroyed_at TEXT
  )${t.strict};
  CREATE UNIQUE INDEX privacy_subject_keys_live ON privacy_subject_keys (ref) WHERE destroyed_at IS NULL;
  CREATE INDEX privacy_subject_keys_ref ON privacy_subject_keys (ref);
  CREATE TABLE privacy_subject_streams (
    ref TEXT NOT NULL,
    stream TEXT NOT NULL,
    PRIMARY KEY (ref, stream)
  )${t.strict};
  CREATE INDEX privacy_subject_streams_stream ON privacy_subject_streams (stream);
  CREATE TABLE privacy_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
  )${t.strict};
`;

const SCHEMA = new SqlSchema(PRIVACY_COMPONENT, [
  sqlMigration(1, 'data-subject keys, their links to streams, and the reference secret', tables),
]);

/** The tables of the default key provider (for a backup copy "without the key table"). */
export const SUBJECT_KEY_TABLES = ['privacy_subject_keys', 'privacy_secrets'] as const;

export interface SqlSubjectKeyStoreOptions {
  /** Wraps the keys under a master key (KMS, HSM, a key file); stored as they are without one. */
  wrapper?: KeyWrapper;
  /** How long a key read is trusted before it is read again (another replica may destroy it). @defaultValue 5000 */
  cacheMs?: number;
  /** Most keys held in memory. @defaultValue 100000 */
  cacheSize?: number;
  clock?: { now(): number };
}

interface CachedKey {
  kid: string;
  key: KeyObject | null;
  at: number;
}

interface Waiting {
  requests: readonly SealingRequest[];
  resolve(): void;
  reject(err: unknown): void;
}

/** At most this many rows per statement (SQLite's bound parameters). */
const CHUNK = 400;

/**
 * The default {@link SubjectKeyProvider}: keys in the hub's own store (the SQLite events file, or the
 * PostgreSQL schema every replica shares). Keys made by concurrent calls are written together in one
 * transaction. Destroying a key overwrites its bytes; on SQLite the write-ahead log is then checkpointed
 * and truncated so that no copy of the page stays in it.
 */
export class SqlSubjectKeyStore extends MigratingSqlStore implements SubjectKeyProvider {
  private secret: Buffer | undefined;
  private readonly byRef = new Map<string, CachedKey>();
  private readonly byKid = new Map<string, CachedKey>();
  private readonly linked = new Set<string>();
  private waiting: Waiting[] = [];
  private flushing = false;
  private readonly cacheMs: number;
  private readonly cacheSize: number;
  private readonly clock: { now(): number };

  private constructor(
    db: SqlDatabase,
    private readonly options: SqlSubjectKeyStoreOptions,
  ) {
    super(db, SCHEMA);
    this.cacheMs = options.cacheMs ?? 5000;
    this.cacheSize = options.cacheSize ?? 100_000;
    this.clock = options.clock ?? Date;
  }

  /** Opens (and migrates) the key tables on `db`, making the reference secret at the first start. */
  static async open(db: SqlDatabase, options: SqlSubjectKeyStoreOptions = {}): Promise<SqlSubjectKeyStore> {
    const store = await whenMigrated(new SqlSubjectKeyStore(db, options));
    await db.run('INSERT INTO privacy_secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
      'subject-ref',
      randomBytes(32).toString('base64'),
    ]);
    await store.loadSecret(db);
    return store;
  }

  /**
   * Reads the keys of a store without writing anything (a copy of it, a read-only connection); fails
   * when the store has no key tables.
   */
  static async reader(db: SqlDatabase, options: SqlSubjectKeyStoreOptions = {}): Promise<SqlSubjectKeyStore> {
    const store = new SqlSubjectKeyStore(db, options);
    await store.loadSecret(db);
    return store;
  }

  private async loadSecret(db: SqlExecutor): Promise<void> {
    const [row] = await db.query<{ value: string }>('SELECT value FROM privacy_secrets WHERE name = $1', [
      'subject-ref',
    ]);
    if (row === undefined) throw new Error('the subject-key tables hold no reference secret');
    this.secret = Buffer.from(row.value, 'base64');
  }

  ref(subjectId: string): string {
    if (this.secret === undefined) throw new Error('the subject-key store is not open');
    return createHmac('sha256', this.secret).update(subjectId, 'utf8').digest('base64url');
  }

  async sealingKeys(requests: readonly SealingRequest[]): Promise<Map<string, SealingKey>> {
    const now = this.clock.now();
    const out = new Map<string, SealingKey>();
    let missing = false;
    for (const r of requests) {
      const cached = this.byRef.get(r.ref);
      if (cached?.key && now - cached.at < this.cacheMs) out.set(r.ref, { kid: cached.kid, key: cached.key });
      else missing = true;
      if (r.stream !== undefined && !this.linked.has(`${r.ref} ${r.stream}`)) missing = true;
    }
    if (!missing) return out;
    // Written with the other calls of this turn, in one transaction.
    await new Promise<void>((resolve, reject) => {
      this.waiting.push({ requests, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
    for (const r of requests) {
      const cached = this.byRef.get(r.ref);
      if (!cached?.key) throw new Error('a subject key was not stored');
      out.set(r.ref, { kid: cached.kid, key: cached.key });
    }
    return out;
  }

  private async flush(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    try {
      const refs = new Set<string>();
      const links = new Set<string>();
      for (const w of batch)
        for (const r of w.requests) {
          refs.add(r.ref);
          if (r.stream !== undefined) links.add(`${r.ref} ${r.stream}`);
        }
      const made: { kid: string; ref: string; material: string }[] = [];
      for (const ref of refs) {
        const key = randomBytes(32);
        made.push({ kid: randomBytes(16).toString('base64url'), ref, material: await this.wrap(key) });
      }
      const createdAt = new Date(this.clock.now()).toISOString();
      const wrappedBy = this.options.wrapper?.id ?? null;
      const linkRows = [...links].map((l) => l.split(' ') as [string, string]);
      const rows = await this.db.transaction(async (tx) => {
        for (let i = 0; i < made.length; i += CHUNK) {
          const part = made.slice(i, i + CHUNK);
          await tx.run(
            `INSERT INTO privacy_subject_keys (kid, ref, key_material, wrapped_by, created_at) VALUES ${part
              .map((_, j) => `($${j * 5 + 1}, $${j * 5 + 2}, $${j * 5 + 3}, $${j * 5 + 4}, $${j * 5 + 5})`)
              .join(', ')} ON CONFLICT DO NOTHING`,
            part.flatMap((m) => [m.kid, m.ref, m.material, wrappedBy, createdAt]),
          );
        }
        for (let i = 0; i < linkRows.length; i += CHUNK) {
          const part = linkRows.slice(i, i + CHUNK);
          await tx.run(
            `INSERT INTO privacy_subject_streams (ref, stream) VALUES ${part
              .map((_, j) => `($${j * 2 + 1}, $${j * 2 + 2})`)
              .join(', ')} ON CONFLICT DO NOTHING`,
            part.flat(),
          );
        }
        const live: KeyRow[] = [];
        const all = [...refs];
        for (let i = 0; i < all.length; i += CHUNK)
          live.push(...(await liveKeys(tx, all.slice(i, i + CHUNK))));
        return live;
      });
      const now = this.clock.now();
      for (const row of rows) {
        if (row.key_material === null) continue;
        const entry: CachedKey = {
          kid: row.kid,
          key: await this.unwrap(row.key_material, row.wrapped_by),
          at: now,
        };
        this.remember(row.ref, entry);
      }
      for (const l of links) this.linked.add(l);
      if (this.linked.size > this.cacheSize) this.linked.clear();
      for (const w of batch) w.resolve();
    } catch (err) {
      for (const w of batch) w.reject(err);
    } finally {
      if (this.waiting.length > 0) setImmediate(() => void this.flush());
      else this.flushing = false;
    }
  }

  async openingKeys(kids: readonly string[]): Promise<Map<string, KeyObject | null>> {
    const now = this.clock.now();
    const out = new Map<string, KeyObject | null>();
    const missing: string[] = [];
    for (const kid of new Set(kids)) {
      const cached = this.byKid.get(kid);
      if (cached !== undefined && now - cached.at < this.cacheMs) out.set(kid, cached.key);
      else missing.push(kid);
    }
    for (let i = 0; i < missing.length; i += CHUNK) {
      const part = missing.slice(i, i + CHUNK);
      const rows = await this.db.query<KeyRow>(
        `SELECT kid, ref, key_material, wrapped_by FROM privacy_subject_keys WHERE kid IN (${part
          .map((_, j) => `$${j + 1}`)
          .join(', ')})`,
        part,
      );
      const found = new Map(rows.map((r) => [r.kid, r]));
      for (const kid of part) {
        const row = found.get(kid);
        const key = row?.key_material ? await this.unwrap(row.key_material, row.wrapped_by) : null;
        out.set(kid, key);
        if (row !== undefined) this.rememberKid({ kid, key, at: now });
      }
    }
    return out;
  }

  async subjectsOf(kids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const unique = [...new Set(kids)];
    for (let i = 0; i < unique.length; i += CHUNK) {
      const part = unique.slice(i, i + CHUNK);
      const rows = await this.db.query<{ kid: string; ref: string }>(
        `SELECT kid, ref FROM privacy_subject_keys WHERE kid IN (${part.map((_, j) => `$${j + 1}`).join(', ')})`,
        part,
      );
      for (const r of rows) out.set(r.kid, r.ref);
    }
    return out;
  }

  async destroy(ref: string): Promise<SubjectKeyState> {
    const at = new Date(this.clock.now()).toISOString();
    await this.db.run(
      `UPDATE privacy_subject_keys SET key_material = NULL, destroyed_at = $2
       WHERE ref = $1 AND destroyed_at IS NULL`,
      [ref, at],
    );
    // Forget every cached key of the subject, whatever kid it was read under.
    this.byRef.delete(ref);
    const kids = await this.db.query<{ kid: string }>('SELECT kid FROM privacy_subject_keys WHERE ref = $1', [
      ref,
    ]);
    for (const { kid } of kids) this.byKid.delete(kid);
    await this.scrub();
    return (await this.state(ref)) ?? { ref, keys: 0, destroyed: 0 };
  }

  /** On SQLite: the overwritten pages leave the write-ahead log (secure deletion). */
  private async scrub(): Promise<void> {
    if (this.db.dialect !== 'sqlite') return;
    try {
      await this.db.query('PRAGMA wal_checkpoint(TRUNCATE)');
    } catch {
      // A reader holds the log: the pages are overwritten by the next checkpoints.
    }
  }

  async state(ref: string): Promise<SubjectKeyState | undefined> {
    const [row] = await this.db.query<{
      keys: number | string;
      destroyed: number | string;
      at: string | null;
    }>(
      `SELECT COUNT(*) AS keys, COUNT(destroyed_at) AS destroyed, MAX(destroyed_at) AS at
       FROM privacy_subject_keys WHERE ref = $1`,
      [ref],
    );
    if (row === undefined || Number(row.keys) === 0) return undefined;
    return {
      ref,
      keys: Number(row.keys),
      destroyed: Number(row.destroyed),
      ...(row.at === null ? {} : { destroyedAt: row.at }),
    };
  }

  async streams(ref: string): Promise<string[]> {
    const rows = await this.db.query<{ stream: string }>(
      'SELECT stream FROM privacy_subject_streams WHERE ref = $1 ORDER BY stream',
      [ref],
    );
    return rows.map((r) => r.stream);
  }

  async subjectsIn(stream: string): Promise<string[]> {
    const rows = await this.db.query<{ ref: string }>(
      'SELECT ref FROM privacy_subject_streams WHERE stream = $1 ORDER BY ref',
      [stream],
    );
    return rows.map((r) => r.ref);
  }

  private remember(ref: string, entry: CachedKey): void {
    if (this.byRef.size >= this.cacheSize) this.byRef.clear();
    this.byRef.set(ref, entry);
    this.rememberKid(entry);
  }

  private rememberKid(entry: CachedKey): void {
    if (this.byKid.size >= this.cacheSize) this.byKid.clear();
    this.byKid.set(entry.kid, entry);
  }

  private async wrap(key: Buffer): Promise<string> {
    return this.options.wrapper ? this.options.wrapper.wrap(key) : key.toString('base64');
  }

  private async unwrap(material: string, wrappedBy: string | null): Promise<KeyObject> {
    const wrapper = this.options.wrapper;
    if ((wrapper?.id ?? null) !== wrappedBy) {
      throw new Error(
        wrappedBy === null
          ? 'a subject key is stored unwrapped, but a master key is configured'
          : `a subject key is wrapped by ${wrappedBy}, which is not the configured master key`,
      );
    }
    return createSecretKey(wrapper ? await wrapper.unwrap(material) : Buffer.from(material, 'base64'));
  }
}

interface KeyRow {
  kid: string;
  ref: string;
  key_material: string | null;
  wrapped_by: string | null;
}

function liveKeys(db: SqlExecutor, refs: readonly string[]): Promise<KeyRow[]> {
  if (refs.length === 0) return Promise.resolve([]);
  return db.query<KeyRow>(
    `SELECT kid, ref, key_material, wrapped_by FROM privacy_subject_keys
     WHERE destroyed_at IS NULL AND ref IN (${refs.map((_, j) => `$${j + 1}`).join(', ')})`,
    refs,
  );
}
