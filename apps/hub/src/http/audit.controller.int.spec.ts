import { SqlAuditLog, type AuditLog } from '#lgsp/security';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { AuditController } from './audit.controller.js';
import { serveController } from './controller.testing.js';
import { AUDIT_LOG } from './tokens.js';

/** The controller alone in a Fastify app, with the audit log or none (a hub that does not run it). */
const serve = (audit: AuditLog | undefined) =>
  serveController(AuditController, audit ? [{ provide: AUDIT_LOG, useValue: audit }] : []);

const get = async (url: string, token = 'ops-token') => {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('GET /v1/admin/audit', () => {
  it('lists the entries oldest first, filtered by action prefix and subject, with the next cursor', async () => {
    const audit = await SqlAuditLog.open(SqliteDatabase.open(':memory:'));
    const base = { at: '2026-11-23T09:00:00.000Z', actor: 'ops', scope: { target: 'portal' }, outcome: {} };
    const plan = await audit.record({ ...base, action: 'replay.plan', subject: 'portal' });
    const run = await audit.record({ ...base, action: 'replay.run', subject: 'replay:r-1' });
    const rec = await audit.record({ ...base, action: 'reconciliation.run', subject: 'reconciliation:c-1' });
    const hub = await serve(audit);
    try {
      expect(await get(`${hub.url}/v1/admin/audit`)).toEqual({
        status: 200,
        body: { entries: [plan, run, rec] },
      });
      expect((await get(`${hub.url}/v1/admin/audit?action=replay.`)).body).toEqual({ entries: [plan, run] });
      expect((await get(`${hub.url}/v1/admin/audit?subject=replay:r-1`)).body).toEqual({ entries: [run] });
      expect((await get(`${hub.url}/v1/admin/audit?limit=2`)).body).toEqual({
        entries: [plan, run],
        next: run.id,
      });
      expect((await get(`${hub.url}/v1/admin/audit?limit=2&after=${run.id}`)).body).toEqual({
        entries: [rec],
      });
    } finally {
      await hub.close();
    }
  });

  it('answers problems: a bad limit (400 with pointer), a commune client (403), no token (401)', async () => {
    const hub = await serve(await SqlAuditLog.open(SqliteDatabase.open(':memory:')));
    try {
      const bad = await get(`${hub.url}/v1/admin/audit?limit=0`);
      expect(bad.status).toBe(400);
      expect(bad.body.errors).toEqual([{ pointer: '/limit', message: 'must be an integer from 1 to 1000' }]);
      expect((await get(`${hub.url}/v1/admin/audit?action=a&action=b`)).status).toBe(400);
      expect((await get(`${hub.url}/v1/admin/audit`, 'commune-token')).status).toBe(403);
      expect((await get(`${hub.url}/v1/admin/audit`, 'nobody')).status).toBe(401);
    } finally {
      await hub.close();
    }
  });

  it('is 404 on a hub that keeps no audit log', async () => {
    const hub = await serve(undefined);
    try {
      const r = await get(`${hub.url}/v1/admin/audit`);
      expect(r.status).toBe(404);
      expect(r.body.detail).toBe('this hub keeps no audit log');
    } finally {
      await hub.close();
    }
  });
});
