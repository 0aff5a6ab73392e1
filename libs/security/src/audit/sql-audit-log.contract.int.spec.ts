import { BACKENDS, describeOnEveryBackend } from '#lgsp/storage/testing';
import { describeAuditLogContract } from '../contract/audit-log-contract.js';
import { AUDIT_COMPONENT } from './audit-rules.js';
import { SqlAuditLog } from './sql-audit-log.js';

describeOnEveryBackend(describeAuditLogContract, (db) => SqlAuditLog.open(db));

describe.each(BACKENDS)('SqlAuditLog on $name', (backend) => {
  it('versions its table as security.audit, and opening again keeps the entries', async () => {
    const data = await backend.create();
    try {
      const db = await data.connect();
      const entry = await (
        await SqlAuditLog.open(db)
      ).record({
        at: '2026-11-23T09:00:00.000Z',
        actor: 'ops',
        action: 'reconciliation.run',
        subject: 'reconciliation:c-1',
        scope: { target: 'portal' },
        outcome: { state: 'running' },
      });
      const again = await data.connect();
      expect(await (await SqlAuditLog.open(again)).list({ limit: 5 })).toEqual([entry]);
      expect(await again.versions()).toEqual([{ component: AUDIT_COMPONENT, version: 1 }]);
    } finally {
      await data.close();
    }
  });
});
