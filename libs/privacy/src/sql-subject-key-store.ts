import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import {
  MigratingSqlStore,
  durableWithNextCommit,
  SqlSchema,
  sqlMigration,
  whenMigrated,
  type SqlColumnTypes,
  type SqlDatabase,
  type SqlExecutor,
} from '#lgsp/storage';
import { GenerationCache } from '#lgsp/event-store';
import { PRIVACY_COMPONENT } from './model.js';
import { randomSecret, timeOrderedId } from './random.js';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type {
  KeyWrapper,
  SealingKey,
  SealingOptions,
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

// Migration 2, for the cost of a new data subject: its key row and the index entries it writes at once.
// Kids now sort by creation time (new ones append to the kid index), one unique index on the subject
// replaces the two (it holds the one-live-key rule: a live key's second column is ''), and a key records
// the stream it was made for (`first_stream`), so that a new subject writes no link row. A subject's
// streams are its keys' first streams and its links.
const oneSubjectIndex = () => `
  ALTER TABLE privacy_subject_keys ADD COLUMN first_stream TEXT;
  DROP INDEX privacy_subject_keys_live;
  DROP INDEX privacy_subject_keys_ref;
  CREATE UNIQUE INDEX privacy_subject_keys_subject
    ON privacy_subject_keys (ref, COALESCE(destroyed_at || ' ' || kid, ''));
  CREATE INDEX privacy_subject_keys_first_stream ON privacy_subject_keys (first_stream)
    WHERE first_stream IS NOT NULL;
`;

/** The key tables and their migrations (exported for the migration tests). */
export const SUBJECT_KEY_SCHEMA = new SqlSchema(PRIVACY_COMPONENT, [
  sqlMigration(1, 'data-subject keys, their links to streams, and the reference secret', tables),
  sqlMigration(2, "one index on a key's subject, time-ordered kids, a key's first stream", oneSubjectIndex),
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
  /**
   * SQLite: new keys are committed without their own fsync, and become durable with the next commit on
   * the file (an fsync of the write-ahead log covers every frame before it). Set it only when what is
   * sealed under them is then stored by a commit on the same file, as the hub's events are: a power
   * loss can then lose only keys that nothing stored uses. @defaultValue false
   */
  durableWithNextCommit?: boolean;
  /**
   * This process is the only one that writes the key tables (the embedded SQLite store): a subject's
   * live key, once read or made here, is used to seal without asking the store again (no other process
   * can destroy it; this one forgets it when it destroys it). @defaultValue false
   */
  exclusive?: boolean;
  clock?: { now(): number };
}

interface CachedKey {
  kid: string;
  key: KeyObject | null;
  at: number;
}

/** A key made for events not yet committed (see {@link SqlSubjectKeyStore.commitCompanion}). */
interface DeferredKey {
  kid: string;
  ref: string;
  material: string;
  createdAt: string;
  /** The stream whose events the key was made for: its first link, written in its row. */
  firstStream?: string;
}

/** What a group commit of the event store carries (structurally the event store's `CommitCompanion`). */
export interface KeyCommitCompanion {
  write(): void;
  settled(committed: boolean): void;
}

interface Waiting {
  requests: readonly SealingRequest[];
  resolve(keys: ReadonlyMap<string, SealingKey>): void;
  reject(err: unknown): void;
}

/**
 * Subject–stream links remembered as written: the streams being appended to now (a dossier's events come
 * close together); small, so that a stream of new dossiers does not grow a large set.
 */
const LINKS_KNOWN = 16_384;

/** At most this many rows per statement (6 parameters a row: 2,400, below SQLite's and PostgreSQL's limits). */
const CHUNK = 400;

/** Rounds of a flush whose subjects lost their key between its read and its write (a destroy at that moment). */
const FLUSH_ROUNDS = 3;

/**
 * The default {@link SubjectKeyProvider}: keys in the hub's own store (the SQLite events file, or the
 * PostgreSQL schema every replica shares). The sealing keys asked for in one turn of the event loop are
 * read, made and written together (one query, and one transaction when a key or a link is new).
 * Destroying a key overwrites its bytes; on SQLite with `secure_delete` for that statement, and the
 * write-ahead log is then checkpointed and truncated so that no copy of the page stays in it.
 */
export class SqlSubjectKeyStore extends MigratingSqlStore implements SubjectKeyProvider {
  /** The key of the subject references (a KeyObject: an HMAC keyed with a Buffer costs six times as much). */
  private secret: KeyObject | undefined;
  private readonly byRef = new Map<string, CachedKey>();
  /** The references of the subjects sealed or looked up last (an HMAC each). */
  private readonly refs = new Map<string, string>();
  private readonly byKid = new Map<string, CachedKey>();
  /** The subject–stream links known written (a miss costs one `INSERT … ON CONFLICT DO NOTHING`). */
  private readonly linked = new GenerationCache<true>(LINKS_KNOWN);
  private waiting: Waiting[] = [];
  private flushing = false;
  /** Grows at each destroy: a key read before it is not cached after it. */
  private epoch = 0;
  private readonly cacheMs: number;
  private readonly cacheSize: number;
  private readonly clock: { now(): number };
  /** Keys made for events not yet committed, by subject, and the links of those events. */
  private readonly deferredKeys = new Map<string, DeferredKey>();
  private readonly deferredLinks = new Set<string>();
  /** What the group commit under way is writing. */
  private inFlight: { keys: DeferredKey[]; links: string[] } | undefined;
  /** Deferred keys being made, by subject: one key per subject however many calls ask at once. */
  private readonly making = new Map<string, Promise<SealingKey>>();
  private companion = false;
  /** The companion's connection: a subject's live key read there synchronously (see `liveKey`). */
  private companionConnection: DatabaseSync | undefined;
  private selectLiveKey: StatementSync | undefined;

  private constructor(
    db: SqlDatabase,
    private readonly options: SqlSubjectKeyStoreOptions,
  ) {
    super(db, SUBJECT_KEY_SCHEMA);
    this.cacheMs = options.cacheMs ?? 5000;
    this.cacheSize = options.cacheSize ?? 100_000;
    this.clock = options.clock ?? Date;
  }

  /** Opens (and migrates) the key tables on `db`, making the reference secret at the first start. */
  static async open(db: SqlDatabase, options: SqlSubjectKeyStoreOptions = {}): Promise<SqlSubjectKeyStore> {
    // SQLite leaves the bytes a page no longer uses where they were (a row deleted, cells moved when a
    // page splits), so a destroyed key could be read back from free space: the connection overwrites
    // them with zeros from now on (the events are only ever appended: it costs them next to nothing).
    if (db.dialect === 'sqlite') await db.query('PRAGMA secure_delete = 1');
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
    this.secret = createSecretKey(Buffer.from(row.value, 'base64'));
  }

  ref(subjectId: string): string {
    if (this.secret === undefined) throw new Error('the subject-key store is not open');
    let ref = this.refs.get(subjectId);
    if (ref === undefined) {
      ref = createHmac('sha256', this.secret).update(subjectId, 'utf8').digest('base64url');
      if (this.refs.size >= this.cacheSize) this.refs.clear();
      this.refs.set(subjectId, ref);
    }
    return ref;
  }

  /**
   * The subjects' live keys, read from the store (a key destroyed by another replica is never used to
   * seal), made for subjects without one, with the new (subject, stream) links: one read, and one
   * transaction when something is new, for all the calls of one turn of the event loop.
   */
  async sealingKeys(
    requests: readonly SealingRequest[],
    options?: SealingOptions,
  ): Promise<Map<string, SealingKey>> {
    if (requests.length === 0) return new Map();
    if (this.options.exclusive) {
      const deferred = options?.withNextAppend === true && this.companion;
      const known = this.knownSealingKeys(requests, deferred);
      if (known !== undefined) return known;
      if (deferred) return this.deferredSealingKeys(requests);
    }
    const keys = await new Promise<ReadonlyMap<string, SealingKey>>((resolve, reject) => {
      this.waiting.push({ requests, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
    const out = new Map<string, SealingKey>();
    for (const r of requests) {
      const key = keys.get(r.ref);
      if (key === undefined) throw new Error('a subject key was not stored');
      out.set(r.ref, key);
    }
    return out;
  }

  /**
   * With {@link SqlSubjectKeyStoreOptions.exclusive}: the keys when every subject's live key and every
   * link is known here already (nothing to read or write), undefined otherwise.
   */
  private knownSealingKeys(
    requests: readonly SealingRequest[],
    deferred: boolean,
  ): Map<string, SealingKey> | undefined {
    const out = new Map<string, SealingKey>();
    for (const r of requests) {
      const cached = this.byRef.get(r.ref);
      if (cached?.key == null) return undefined;
      // A key not committed yet seals only what goes into the same commit; a new link is written by
      // that commit, or else by a transaction of its own.
      if (!deferred && this.deferredKeys.has(r.ref)) return undefined;
      if (!deferred && r.stream !== undefined && this.linked.get(linkOf(r.ref, r.stream)) === undefined)
        return undefined;
      out.set(r.ref, { kid: cached.kid, key: cached.key });
    }
    if (deferred)
      for (const r of requests)
        if (r.stream !== undefined) this.linkDeferred({ ref: r.ref, stream: r.stream }, out.get(r.ref)!);
    return out;
  }

  /** Queues the link of `r` for the next event commit, in its new key's row when that is not written yet. */
  private linkDeferred(r: SealingRequest & { stream: string }, key: SealingKey): void {
    const link = linkOf(r.ref, r.stream);
    if (this.linked.get(link)) return;
    this.linked.set(link, true);
    const queued = this.deferredKeys.get(r.ref);
    if (queued !== undefined && queued.kid === key.kid && queued.firstStream === undefined)
      queued.firstStream = r.stream;
    else this.deferredLinks.add(link);
  }

  /**
   * The event store's group commits write the keys and links made for their events (exclusive store):
   * sealing for an append then needs no transaction of its own. Only for a store on the same SQLite
   * connection as the events, in the one process that writes it.
   */
  commitCompanion(connection: DatabaseSync): KeyCommitCompanion {
    if (!this.options.exclusive) throw new Error('only an exclusive key store rides with the event commits');
    this.companion = true;
    this.companionConnection = connection;
    let insertKey: StatementSync | undefined;
    let insertLink: StatementSync | undefined;
    const wrappedBy = this.options.wrapper?.id ?? null;
    return {
      write: () => {
        if (this.deferredKeys.size === 0 && this.deferredLinks.size === 0) return;
        const flight = { keys: [...this.deferredKeys.values()], links: [...this.deferredLinks] };
        this.deferredKeys.clear();
        this.deferredLinks.clear();
        this.inFlight = flight;
        // A second live key of a subject violates the unique index: the group fails, loudly.
        insertKey ??= connection.prepare(
          `INSERT INTO privacy_subject_keys (kid, ref, key_material, wrapped_by, created_at, first_stream)
           VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kid) DO NOTHING`,
        );
        insertLink ??= connection.prepare(
          'INSERT INTO privacy_subject_streams (ref, stream) VALUES (?, ?) ON CONFLICT DO NOTHING',
        );
        for (const k of flight.keys)
          insertKey.run(k.kid, k.ref, k.material, wrappedBy, k.createdAt, k.firstStream ?? null);
        for (const l of flight.links) {
          const space = l.indexOf(' ');
          insertLink.run(l.slice(0, space), l.slice(space + 1));
        }
      },
      settled: (committed) => {
        const flight = this.inFlight;
        this.inFlight = undefined;
        if (flight === undefined || committed) return;
        this.requeue(flight.keys, flight.links);
      },
    };
  }

  private requeue(keys: readonly DeferredKey[], links: readonly string[]): void {
    for (const k of keys) if (!this.deferredKeys.has(k.ref)) this.deferredKeys.set(k.ref, k);
    for (const l of links) this.deferredLinks.add(l);
  }

  /** Keys for an append whose commit writes them (see {@link commitCompanion}). */
  private async deferredSealingKeys(requests: readonly SealingRequest[]): Promise<Map<string, SealingKey>> {
    const out = new Map<string, SealingKey>();
    for (const r of requests) {
      const cached = this.byRef.get(r.ref);
      let key: SealingKey | undefined = cached?.key ? { kid: cached.kid, key: cached.key } : undefined;
      if (key === undefined) {
        let making = this.making.get(r.ref);
        if (making === undefined) {
          making = this.makeDeferred(r.ref).finally(() => this.making.delete(r.ref));
          this.making.set(r.ref, making);
        }
        key = await making;
      }
      out.set(r.ref, key);
      if (r.stream !== undefined) this.linkDeferred({ ref: r.ref, stream: r.stream }, key);
    }
    return out;
  }

  /** The subject's live key from the store, or a new one queued for the next event commit. */
  private async makeDeferred(ref: string): Promise<SealingKey> {
    const epoch = this.epoch;
    const queued = this.deferredKeys.get(ref);
    const row = queued === undefined ? await this.liveKey(ref) : undefined;
    const now = this.clock.now();
    if (row?.key_material) {
      const key = await this.unwrap(row.key_material, row.wrapped_by);
      if (this.epoch === epoch) this.remember(ref, { kid: row.kid, key, at: now });
      return { kid: row.kid, key };
    }
    if (queued !== undefined) {
      const key = await this.unwrap(queued.material, this.options.wrapper?.id ?? null);
      this.remember(ref, { kid: queued.kid, key, at: now });
      return { kid: queued.kid, key };
    }
    const bytes = randomSecret(32);
    const kid = timeOrderedId(now);
    const material = await this.wrap(bytes);
    const key = createSecretKey(bytes);
    bytes.fill(0);
    // Destroyed meanwhile: what is sealed under this key reads as erased, since it is never stored.
    if (this.epoch !== epoch) return { kid, key };
    this.deferredKeys.set(ref, { kid, ref, material, createdAt: new Date(now).toISOString() });
    this.remember(ref, { kid, key, at: now });
    return { kid, key };
  }

  /**
   * A subject's live key in the store. On the companion's connection, read at once with a prepared
   * statement, unless a transaction of another caller is open on it (its rows are not committed yet):
   * then in turn, as any query.
   */
  private async liveKey(ref: string): Promise<KeyRow | undefined> {
    const connection = this.companionConnection;
    if (connection !== undefined && !connection.isTransaction) {
      this.selectLiveKey ??= connection.prepare(
        `SELECT kid, ref, key_material, wrapped_by FROM privacy_subject_keys
         WHERE ref = ? AND destroyed_at IS NULL`,
      );
      return this.selectLiveKey.get(ref) as KeyRow | undefined;
    }
    const [row] = await liveKeys(this.db, [ref]);
    return row;
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
          const link = r.stream === undefined ? undefined : linkOf(r.ref, r.stream);
          if (link !== undefined && this.linked.get(link) === undefined) links.add(link);
        }
      const keys = await this.liveOrMade([...refs].sort(), [...links].sort());
      for (const l of links) this.linked.set(l, true);
      for (const w of batch) w.resolve(keys);
    } catch (err) {
      for (const w of batch) w.reject(err);
    } finally {
      if (this.waiting.length > 0) setImmediate(() => void this.flush());
      else this.flushing = false;
    }
  }

  /**
   * The live key of each of `refs` (sorted, so that replicas writing the same subjects lock their rows in
   * one order), made when missing; `links` written with them.
   */
  private async liveOrMade(
    refs: readonly string[],
    links: readonly string[],
  ): Promise<Map<string, SealingKey>> {
    const epoch = this.epoch;
    let rows = await chunked(refs, (part) => liveKeys(this.db, part));
    let pendingLinks = links;
    /** The keys made here, by kid: those stored need no unwrapping. */
    const fresh = new Map<string, KeyObject>();
    for (let round = 0; ; round++) {
      const found = new Set(rows.map((r) => r.ref));
      const absent = refs.filter((r) => !found.has(r));
      if (absent.length === 0 && pendingLinks.length === 0) break;
      if (round === FLUSH_ROUNDS) throw new Error('subject keys were destroyed while being made; try again');
      const made: { kid: string; ref: string; material: string }[] = [];
      // Wrapped before the transaction: a KMS call must not hold SQLite's connection.
      for (const ref of absent) {
        const bytes = randomSecret(32);
        const kid = timeOrderedId(this.clock.now());
        made.push({ kid, ref, material: await this.wrap(bytes) });
        fresh.set(kid, createSecretKey(bytes));
        bytes.fill(0);
      }
      // Keys made for appends not yet committed go first: this transaction may be the first to commit.
      const drained = { keys: [...this.deferredKeys.values()], links: [...this.deferredLinks] };
      this.deferredKeys.clear();
      this.deferredLinks.clear();
      const write = async (tx: SqlExecutor): Promise<KeyRow[]> => {
        const createdAt = new Date(this.clock.now()).toISOString();
        await insertKeys(tx, drained.keys, this.options.wrapper?.id ?? null, createdAt);
        await insertLinks(tx, drained.links);
        await insertKeys(tx, made, this.options.wrapper?.id ?? null, createdAt);
        await insertLinks(tx, pendingLinks);
        return chunked(refs, (part) => liveKeys(tx, part));
      };
      try {
        rows = this.options.durableWithNextCommit
          ? await durableWithNextCommit(this.db, write)
          : await this.db.transaction(write);
      } catch (err) {
        this.requeue(drained.keys, drained.links);
        throw err;
      }
      pendingLinks = [];
    }
    const now = this.clock.now();
    const out = new Map<string, SealingKey>();
    for (const row of rows) {
      if (row.key_material === null) continue;
      const cached = this.byRef.get(row.ref);
      const key =
        fresh.get(row.kid) ??
        (cached?.kid === row.kid && cached.key !== null
          ? cached.key
          : await this.unwrap(row.key_material, row.wrapped_by));
      out.set(row.ref, { kid: row.kid, key });
      if (this.epoch === epoch) this.remember(row.ref, { kid: row.kid, key, at: now });
    }
    return out;
  }

  async openingKeys(kids: readonly string[]): Promise<Map<string, KeyObject | null>> {
    const epoch = this.epoch;
    const now = this.clock.now();
    const out = new Map<string, KeyObject | null>();
    const missing: string[] = [];
    for (const kid of new Set(kids)) {
      const cached = this.byKid.get(kid);
      if (cached !== undefined && now - cached.at < this.cacheMs) out.set(kid, cached.key);
      else missing.push(kid);
    }
    const rows = await chunked(missing, (part) =>
      this.db.query<KeyRow>(
        `SELECT kid, ref, key_material, wrapped_by FROM privacy_subject_keys WHERE kid IN (${params(part)})`,
        part,
      ),
    );
    const found = new Map(rows.map((r) => [r.kid, r]));
    for (const kid of missing) {
      const row = found.get(kid);
      const key = row?.key_material ? await this.unwrap(row.key_material, row.wrapped_by) : null;
      out.set(kid, key);
      if (row !== undefined && this.epoch === epoch) this.rememberKid({ kid, key, at: now });
    }
    return out;
  }

  async subjectsOf(kids: readonly string[]): Promise<Map<string, string>> {
    const rows = await chunked([...new Set(kids)], (part) =>
      this.db.query<{ kid: string; ref: string }>(
        `SELECT kid, ref FROM privacy_subject_keys WHERE kid IN (${params(part)})`,
        part,
      ),
    );
    return new Map(rows.map((r) => [r.kid, r.ref]));
  }

  async destroy(ref: string): Promise<SubjectKeyState> {
    const at = new Date(this.clock.now()).toISOString();
    const destroy = (tx: SqlExecutor) =>
      tx.query<{ kid: string }>(
        `UPDATE privacy_subject_keys SET key_material = NULL, destroyed_at = $2
         WHERE ref = $1 AND destroyed_at IS NULL RETURNING kid`,
        [ref, at],
      );
    const destroyed =
      this.db.dialect === 'sqlite'
        ? await this.db.transaction(async (tx) => {
            // The freed bytes of the row are overwritten too, not left in the page's free space.
            const [was] = await tx.query<{ secure_delete: number }>('PRAGMA secure_delete');
            await tx.query('PRAGMA secure_delete = 1');
            try {
              return await destroy(tx);
            } finally {
              await tx.query(`PRAGMA secure_delete = ${Number(was?.secure_delete ?? 0)}`);
            }
          })
        : await destroy(this.db);
    // Keys read before now are not cached after it; every cached key of the subject is forgotten.
    this.epoch++;
    this.byRef.delete(ref);
    this.deferredKeys.delete(ref);
    for (const { kid } of destroyed) this.byKid.delete(kid);
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
      `SELECT stream FROM privacy_subject_streams WHERE ref = $1
       UNION SELECT first_stream AS stream FROM privacy_subject_keys WHERE ref = $1 AND first_stream IS NOT NULL
       ORDER BY stream`,
      [ref],
    );
    return rows.map((r) => r.stream);
  }

  async subjectsIn(stream: string): Promise<string[]> {
    const rows = await this.db.query<{ ref: string }>(
      `SELECT ref FROM privacy_subject_streams WHERE stream = $1
       UNION SELECT ref FROM privacy_subject_keys WHERE first_stream = $1
       ORDER BY ref`,
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
    const bytes = wrapper ? await wrapper.unwrap(material) : Buffer.from(material, 'base64');
    if (bytes.length !== 32) throw new Error(`a subject key is ${bytes.length} bytes long, not 32`);
    return createSecretKey(bytes);
  }
}

interface KeyRow {
  kid: string;
  ref: string;
  key_material: string | null;
  wrapped_by: string | null;
}

/** The placeholders of `values`: `$1, $2, …` for an `IN (…)`, `($1, $2), ($3, $4), …` for `per` columns. */
function params(values: readonly unknown[], per = 1): string {
  const one = (j: number) => Array.from({ length: per }, (_, k) => `$${j * per + k + 1}`).join(', ');
  return values.map((_, j) => (per === 1 ? one(j) : `(${one(j)})`)).join(', ');
}

/** `fn` over `values` in parts of {@link CHUNK}, one after the other, the rows concatenated. */
async function chunked<V, R>(values: readonly V[], fn: (part: V[]) => Promise<R[]>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < values.length; i += CHUNK) out.push(...(await fn(values.slice(i, i + CHUNK))));
  return out;
}

const linkOf = (ref: string, stream: string): string => `${ref} ${stream}`;

function liveKeys(db: SqlExecutor, refs: readonly string[]): Promise<KeyRow[]> {
  if (refs.length === 0) return Promise.resolve([]);
  return db.query<KeyRow>(
    `SELECT kid, ref, key_material, wrapped_by FROM privacy_subject_keys
     WHERE destroyed_at IS NULL AND ref IN (${params(refs)})`,
    refs,
  );
}

/** New keys; a subject that got a live key meanwhile (another replica) keeps that one. */
async function insertKeys(
  tx: SqlExecutor,
  made: readonly { kid: string; ref: string; material: string; firstStream?: string }[],
  wrappedBy: string | null,
  createdAt: string,
): Promise<void> {
  await chunked(made, async (part) => {
    await tx.run(
      `INSERT INTO privacy_subject_keys (kid, ref, key_material, wrapped_by, created_at, first_stream)
       VALUES ${params(part, 6)} ON CONFLICT DO NOTHING`,
      part.flatMap((m) => [m.kid, m.ref, m.material, wrappedBy, createdAt, m.firstStream ?? null]),
    );
    return [];
  });
}

async function insertLinks(tx: SqlExecutor, links: readonly string[]): Promise<void> {
  await chunked(links, async (part) => {
    await tx.run(
      `INSERT INTO privacy_subject_streams (ref, stream) VALUES ${params(part, 2)} ON CONFLICT DO NOTHING`,
      part.flatMap((l) => {
        const space = l.indexOf(' ');
        return [l.slice(0, space), l.slice(space + 1)];
      }),
    );
    return [];
  });
}
