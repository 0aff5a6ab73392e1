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
      expect(await again.versions()).toEqual([{ component: AUDIT_COMPONENT, version: 2 }]);
    } finally {
      await data.close();
    }
  });

  it('chains each entry to the one before it, and names the first entry changed afterwards', async () => {
    const data = await backend.create();
    try {
      const db = await data.connect();
      const log = await SqlAuditLog.open(db);
      const entries = [];
      for (let i = 1; i <= 3; i++) {
        entries.push(
          await log.record({
            at: `2026-12-06T09:00:0${i}.000Z`,
            actor: 'ops',
            action: 'webhook.update',
            subject: `webhook:wh-${i}`,
            scope: { b: i, a: { z: 1, y: [i, 'x'] } },
            outcome: { state: 'active' },
          }),
        );
      }
      expect(entries.map((e) => e.hash)).toEqual([
        expect.stringMatching(/^[0-9a-f]{64}$/),
        expect.stringMatching(/^[0-9a-f]{64}$/),
        expect.stringMatching(/^[0-9a-f]{64}$/),
      ]);
      expect(new Set(entries.map((e) => e.hash)).size).toBe(3);
      expect(await log.verify()).toEqual({ ok: true, entries: 3 });

      // An entry edited in place (its outcome rewritten) breaks the chain there.
      const edited = db.dialect === 'postgres' ? `'{"state":"disabled"}'::jsonb` : `'{"state":"disabled"}'`;
      await db.run(`UPDATE audit_log SET outcome = ${edited} WHERE id = $1`, [entries[1]!.id]);
      expect(await log.verify()).toEqual({ ok: false, entries: 1, brokenAt: entries[1]!.id });

      // An entry deleted breaks it at the next one.
      await db.run(`UPDATE audit_log SET outcome = $2 WHERE id = $1`, [
        entries[1]!.id,
        db.dialect === 'postgres' ? { state: 'active' } : JSON.stringify({ state: 'active' }),
      ]);
      expect(await log.verify()).toEqual({ ok: true, entries: 3 });
      await db.run('DELETE FROM audit_log WHERE id = $1', [entries[1]!.id]);
      expect(await log.verify()).toEqual({ ok: false, entries: 1, brokenAt: entries[2]!.id });
    } finally {
      await data.close();
    }
  });
});
