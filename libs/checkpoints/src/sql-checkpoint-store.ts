import {
  MigratingSqlStore,
  SqlSchema,
  sqlMigration,
  whenMigrated,
  type SqlColumnTypes,
  type SqlDatabase,
  type SqlExecutor,
} from '#lgsp/storage';
import {
  CHECKPOINT_EXPORT_FORMAT,
  CHECKPOINTS_COMPONENT,
  type CheckpointExport,
  type CheckpointKey,
  type SignedCheckpoint,
} from './model.js';
import { generateSigningKey, type SigningKeyPair } from './signing.js';

// `checkpoint_keys` holds the keys by generation: 1 for the pair made at the first start, and the
// public half (no private key) of each key from a file the hub was given later. `signed_checkpoints`
// one row per signed position.
const tables = (t: SqlColumnTypes) => `
  CREATE TABLE checkpoint_keys (
    generation INTEGER PRIMARY KEY,
    key_id TEXT NOT NULL UNIQUE,
    public_key TEXT NOT NULL,
    private_key TEXT,
    created_at TEXT NOT NULL
  )${t.strict};
  CREATE TABLE signed_checkpoints (
    position ${t.big} PRIMARY KEY,
    chain_hash TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    message TEXT NOT NULL,
    signature TEXT NOT NULL
  )${t.strict};
`;

const SCHEMA = new SqlSchema(CHECKPOINTS_COMPONENT, [
  sqlMigration(1, 'checkpoint signing keys and signed checkpoints', tables),
]);

interface CheckpointRow {
  position: number | string;
  chain_hash: string;
  signed_at: string;
  key_id: string;
  message: string;
  signature: string;
}

interface KeyRow {
  key_id: string;
  public_key: string;
  created_at: string;
}

const CHECKPOINT_COLUMNS = 'position, chain_hash, signed_at, key_id, message, signature';

const toCheckpoint = (r: CheckpointRow): SignedCheckpoint => ({
  position: Number(r.position),
  chainHash: r.chain_hash,
  signedAt: r.signed_at,
  keyId: r.key_id,
  message: r.message,
  signature: r.signature,
});

const toKey = (r: KeyRow): CheckpointKey => ({
  keyId: r.key_id,
  algorithm: 'Ed25519',
  publicKey: r.public_key,
  createdAt: r.created_at,
});

/**
 * The signing key and the signed checkpoints, beside the events (the SQLite events file, or the
 * PostgreSQL schema every replica shares, so that replicas sign with one key).
 */
export class SqlCheckpointStore extends MigratingSqlStore {
  constructor(
    db: SqlDatabase,
    private readonly clock: { now(): number } = Date,
  ) {
    super(db, SCHEMA);
  }

  static async open(db: SqlDatabase, clock?: { now(): number }): Promise<SqlCheckpointStore> {
    return whenMigrated(new SqlCheckpointStore(db, clock));
  }

  /**
   * The hub's own key pair, made at the first call on a store that has none. Replicas starting
   * together each try to write the next generation; one write wins and all read back that one.
   */
  async signingKey(): Promise<SigningKeyPair> {
    await this.ready;
    const current = await this.ownKey();
    if (current) return current;
    const made = generateSigningKey();
    await this.db.run(
      `INSERT INTO checkpoint_keys (generation, key_id, public_key, private_key, created_at)
       SELECT COALESCE(MAX(generation), 0) + 1, $1, $2, $3, $4 FROM checkpoint_keys WHERE true
       HAVING COALESCE(SUM(CASE WHEN private_key IS NULL THEN 0 ELSE 1 END), 0) = 0
       ON CONFLICT DO NOTHING`,
      [made.keyId, made.publicKey, made.privateKey, new Date(this.clock.now()).toISOString()],
    );
    const written = await this.ownKey();
    if (!written) throw new Error('the checkpoint signing key was not stored');
    return written;
  }

  /**
   * Records the public half of a key kept outside the store (a file) as the next generation, unless it
   * is recorded already: exports and `lgsp verify` then know it. Its private half is not stored.
   */
  async addPublicKey(keyId: string, publicKey: string): Promise<void> {
    await this.ready;
    for (let attempt = 0; attempt < 3; attempt++) {
      // Another replica may take the same generation at once: the insert is then void, and tried again.
      await this.db.run(
        `INSERT INTO checkpoint_keys (generation, key_id, public_key, private_key, created_at)
         SELECT COALESCE(MAX(generation), 0) + 1, $1, $2, NULL, $3 FROM checkpoint_keys WHERE true
         ON CONFLICT DO NOTHING`,
        [keyId, publicKey, new Date(this.clock.now()).toISOString()],
      );
      const [found] = await this.db.query('SELECT 1 AS one FROM checkpoint_keys WHERE key_id = $1', [keyId]);
      if (found) return;
    }
    throw new Error(`the public key ${keyId} could not be recorded`);
  }

  /** Keeps a checkpoint; false when one is already kept at its position (that one stays). */
  async add(c: SignedCheckpoint): Promise<boolean> {
    await this.ready;
    const added = await this.db.run(
      `INSERT INTO signed_checkpoints (${CHECKPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT DO NOTHING`,
      [c.position, c.chainHash, c.signedAt, c.keyId, c.message, c.signature],
    );
    return added === 1;
  }

  /** The checkpoint at the highest position, if any. */
  async latest(): Promise<SignedCheckpoint | undefined> {
    await this.ready;
    const [row] = await this.db.query<CheckpointRow>(
      `SELECT ${CHECKPOINT_COLUMNS} FROM signed_checkpoints ORDER BY position DESC LIMIT 1`,
    );
    return row ? toCheckpoint(row) : undefined;
  }

  /** Checkpoints after position `after`, in position order, at most `limit`. */
  async list(after: number, limit: number): Promise<SignedCheckpoint[]> {
    await this.ready;
    return listCheckpoints(this.db, after, limit);
  }

  /** The public keys, oldest first. */
  async keys(): Promise<CheckpointKey[]> {
    await this.ready;
    return listKeys(this.db);
  }

  private async ownKey(): Promise<SigningKeyPair | undefined> {
    const [row] = await this.db.query<{ key_id: string; public_key: string; private_key: string }>(
      `SELECT key_id, public_key, private_key FROM checkpoint_keys WHERE private_key IS NOT NULL
       ORDER BY generation LIMIT 1`,
    );
    return row && { keyId: row.key_id, publicKey: row.public_key, privateKey: row.private_key };
  }
}

async function listCheckpoints(db: SqlExecutor, after: number, limit: number): Promise<SignedCheckpoint[]> {
  const rows = await db.query<CheckpointRow>(
    `SELECT ${CHECKPOINT_COLUMNS} FROM signed_checkpoints WHERE position > $1 ORDER BY position LIMIT $2`,
    [after, limit],
  );
  return rows.map(toCheckpoint);
}

async function listKeys(db: SqlExecutor): Promise<CheckpointKey[]> {
  const rows = await db.query<KeyRow>(
    'SELECT key_id, public_key, created_at FROM checkpoint_keys ORDER BY generation',
  );
  return rows.map(toKey);
}

/**
 * The checkpoints kept in a store, as an export, read without writing anything (for `lgsp verify` on a
 * store or a copy of it): undefined when the store has no checkpoint tables or no key yet. Reads the
 * public keys only: every key, the one recorded last as `keyId` and `publicKey`.
 */
export async function readStoredCheckpoints(db: SqlExecutor): Promise<CheckpointExport | undefined> {
  const [version] = await db.query<{ version: number }>(
    'SELECT version FROM schema_version WHERE component = $1',
    [CHECKPOINTS_COMPONENT],
  );
  if (version === undefined) return undefined;
  const keys = await listKeys(db);
  const key = keys.at(-1);
  if (key === undefined) return undefined;
  const checkpoints: SignedCheckpoint[] = [];
  for (let page = await listCheckpoints(db, 0, 1000); page.length > 0;) {
    checkpoints.push(...page);
    page = page.length < 1000 ? [] : await listCheckpoints(db, page.at(-1)!.position, 1000);
  }
  return {
    format: CHECKPOINT_EXPORT_FORMAT,
    algorithm: 'Ed25519',
    keyId: key.keyId,
    publicKey: key.publicKey,
    ...(keys.length > 1 ? { keys: keys.map(({ keyId, publicKey }) => ({ keyId, publicKey })) } : {}),
    checkpoints,
  };
}
