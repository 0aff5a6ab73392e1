import { integer, settingsObject } from './schema.js';
import { intFromEnv, redactUrl, type Env } from './env.js';

/** Where the hub keeps its data, and how replicas sharing it tell each other apart. */
export interface StorageConfig {
  /** Folder of the embedded store and the generated admin token. @defaultValue "./data" (env `LGSP_DATA_DIR`) */
  dataDir: string;
  /**
   * `sqlite`: the embedded store, in `dataDir`, for one hub process. A `postgres://user@host:port/db`
   * URL: the production store, which several hub processes can share. @defaultValue "sqlite" (env `LGSP_STORE`)
   */
  store: string;
  postgres: {
    /** Schema holding the hub's tables; created when missing. @defaultValue "public" (env `LGSP_POSTGRES_SCHEMA`) */
    schema: string;
    /** Connections per hub process. @defaultValue 10 */
    poolSize: number;
  };
  /**
   * Names this hub process among the replicas sharing a PostgreSQL store (subscriber leases, logs).
   * null: `<hostname>:<pid>:<random>`. @defaultValue null (env `LGSP_INSTANCE_ID`)
   */
  instanceId: string | null;
}

export interface SubscriptionsConfig {
  /** Events a subscriber reads per batch. @defaultValue 500 */
  batchSize: number;
  /**
   * With a PostgreSQL store, each subscriber runs in one replica at a time, under a lease that lapses
   * this long after its holder stopped renewing it; another replica takes over within about 1⅓ of it.
   * @defaultValue 10000 (env `LGSP_LEASE_TTL_MS`)
   */
  leaseTtlMs: number;
}

export const STORAGE_DEFAULTS: StorageConfig = {
  dataDir: './data',
  store: 'sqlite',
  postgres: { schema: 'public', poolSize: 10 },
  instanceId: null,
};

export const SUBSCRIPTIONS_DEFAULTS: SubscriptionsConfig = { batchSize: 500, leaseTtlMs: 10_000 };

/** The properties of {@link StorageConfig}, top-level keys of the file. */
export const STORAGE_SCHEMA_PROPERTIES = {
  dataDir: { type: 'string', minLength: 1 },
  store: {
    type: 'string',
    pattern: '^(sqlite|postgres(ql)?://.+)$',
  },
  postgres: settingsObject({
    schema: { type: 'string', pattern: '^[a-z_][a-z0-9_]{0,62}$' },
    poolSize: integer(2, 200),
  }),
  instanceId: { type: ['string', 'null'], pattern: '^[^\\s]{1,200}$' },
} as const;

export const SUBSCRIPTIONS_SCHEMA = settingsObject({
  batchSize: integer(1, 10_000),
  leaseTtlMs: integer(300, 600_000),
});

export function applyStorageEnv(
  c: StorageConfig & { subscriptions: SubscriptionsConfig },
  env: Env,
  problems: string[],
): void {
  if (env.LGSP_DATA_DIR) c.dataDir = env.LGSP_DATA_DIR;
  if (env.LGSP_STORE) {
    if (!/^(sqlite|postgres(ql)?:\/\/.+)$/.test(env.LGSP_STORE)) {
      problems.push(`LGSP_STORE: must be "sqlite" or a postgres:// URL, got "${redactUrl(env.LGSP_STORE)}"`);
    } else c.store = env.LGSP_STORE;
  }
  if (env.LGSP_POSTGRES_SCHEMA) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(env.LGSP_POSTGRES_SCHEMA)) {
      problems.push('LGSP_POSTGRES_SCHEMA: lower-case letters, digits and "_", not starting with a digit');
    } else c.postgres.schema = env.LGSP_POSTGRES_SCHEMA;
  }
  if (env.LGSP_INSTANCE_ID) {
    if (!/^[^\s]{1,200}$/.test(env.LGSP_INSTANCE_ID))
      problems.push('LGSP_INSTANCE_ID: 1 to 200 characters, no spaces');
    else c.instanceId = env.LGSP_INSTANCE_ID;
  }
  const leaseTtl = intFromEnv(env, problems, 'LGSP_LEASE_TTL_MS', 300, 600_000);
  if (leaseTtl !== undefined) c.subscriptions.leaseTtlMs = leaseTtl;
}
