import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { schemaVersion } from '#lgsp/event-store/sqlite';
import { describeAuditLogContract } from '../contract/audit-log-contract.js';
import { AUDIT_COMPONENT } from './audit-rules.js';
import { SqliteAuditLog } from './sqlite-audit-log.js';

describeAuditLogContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-audit-contract-'));
  const file = join(dir, 'events.db');
  const databases: DatabaseSync[] = [];
  const open = () => {
    const db = new DatabaseSync(file, { timeout: 5000 });
    databases.push(db);
    return new SqliteAuditLog(db);
  };
  return {
    log: open(),
    another: async () => open(),
    async close() {
      for (const db of databases) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteAuditLog', () => {
  it('versions its table as security.audit, and opening again keeps the entries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgsp-audit-'));
    const db = new DatabaseSync(join(dir, 'events.db'));
    try {
      const entry = await new SqliteAuditLog(db).record({
        at: '2026-11-23T09:00:00.000Z',
        actor: 'ops',
        action: 'reconciliation.run',
        subject: 'reconciliation:c-1',
        scope: { target: 'portal' },
        outcome: { state: 'running' },
      });
      expect(schemaVersion(db, AUDIT_COMPONENT)).toBe(1);
      expect(await new SqliteAuditLog(db).list({ limit: 5 })).toEqual([entry]);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
