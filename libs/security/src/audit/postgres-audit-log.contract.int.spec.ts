import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { StoreUnavailableError } from '#lgsp/event-store';
import { describeAuditLogContract } from '../contract/audit-log-contract.js';
import { AUDIT_COMPONENT } from './audit-rules.js';
import { PostgresAuditLog } from './postgres-audit-log.js';
import { POSTGRES_URL as url, dropSchema, pgClient as admin } from '../../../../test/support/postgres.js';

const poolOn = (connectionString = url) => new pg.Pool({ connectionString, max: 4 });

describeAuditLogContract('postgres', async () => {
  const schema = `audit_test_${randomBytes(6).toString('hex')}`;
  await (await admin()).end();
  const pools: pg.Pool[] = [];
  // Each log on a pool of its own, as each hub process has.
  const open = async () => {
    const pool = poolOn();
    pools.push(pool);
    return PostgresAuditLog.open(pool, schema);
  };
  return {
    log: await open(),
    another: open,
    async close() {
      for (const pool of pools) await pool.end();
      await dropSchema(schema);
    },
  };
});

describe('PostgresAuditLog', () => {
  const schema = `audit_test_${randomBytes(6).toString('hex')}`;
  const pools: pg.Pool[] = [];
  const pool = (connectionString = url) => {
    const p = poolOn(connectionString);
    pools.push(p);
    return p;
  };
  const entry = {
    at: '2026-11-23T09:00:00.000Z',
    actor: 'ops',
    action: 'replay.plan',
    subject: 'portal',
    scope: { target: 'portal' },
    outcome: { dossiers: 3 },
  };

  afterAll(async () => {
    for (const p of pools) await p.end().catch(() => undefined);
    await dropSchema(schema);
  });

  it('versions its table as security.audit, and opening again keeps the entries', async () => {
    const recorded = await (await PostgresAuditLog.open(pool(), schema)).record(entry);
    const again = await PostgresAuditLog.open(pool(), schema);
    expect(await again.list({ limit: 5 })).toEqual([recorded]);
    const client = await admin();
    try {
      const { rows } = await client.query(
        `SELECT version FROM ${client.escapeIdentifier(schema)}.schema_version WHERE component = $1`,
        [AUDIT_COMPONENT],
      );
      expect(rows).toEqual([{ version: 1 }]);
    } finally {
      await client.end();
    }
  });

  it('reports an unreachable server or an ended pool as StoreUnavailableError', async () => {
    await expect(PostgresAuditLog.open(pool('postgres://postgres@127.0.0.1:1/test'), schema)).rejects.toThrow(
      StoreUnavailableError,
    );
    const ending = pool();
    const log = await PostgresAuditLog.open(ending, schema);
    await ending.end();
    await expect(log.list({ limit: 1 })).rejects.toMatchObject({ code: 'unavailable', retriable: true });
    await expect(log.record(entry)).rejects.toThrow(StoreUnavailableError);
  });
});
