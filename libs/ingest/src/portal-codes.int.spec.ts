import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomainError, EventValidator, type CloudEvent } from '#lgsp/contracts';
import type { EventStore } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { IngestService } from './ingest.service.js';
import { BINH_SON, communeClient, eventOf } from './ingest.testing.js';
import { PortalCodeCheck } from './portal-codes.js';

const submitted = (dossierCode: string, agencyCode = '000.00.15.H51'): CloudEvent =>
  eventOf('vn.gov.lgsp.dossier.submitted.v1', BINH_SON, dossierCode, { agencyCode });

describe('IngestService with the code check', () => {
  const client = communeClient('binh-son', BINH_SON);
  let dir: string;
  let store: SqliteEventStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lgsp-code-check-'));
    store = SqliteEventStore.open({ file: join(dir, 'events.db') });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const service = (mode: 'warn' | 'refuse') =>
    new IngestService(store as EventStore, new EventValidator(), { codeCheck: new PortalCodeCheck(mode) });

  it('warn: stores the event and lists the warning in the outcome', async () => {
    const outcome = await service('warn').ingest(client, [submitted('BS-0001')], true);
    expect(outcome.status).toBe(201);
    expect(outcome.warnings).toEqual([{ pointer: '/data/dossierCode', message: expect.any(String) }]);
    expect((await store.head()).position).toBe(1);
  });

  it('warn: an outcome without bad codes has no warnings at all', async () => {
    const outcome = await service('warn').ingest(client, [submitted('000.00.15.H51-250701-0001')], true);
    expect(outcome).not.toHaveProperty('warnings');
  });

  it('refuse: refuses the whole batch with the pointers, and stores nothing', async () => {
    const batch = [submitted('000.00.15.H51-250701-0001'), submitted('BS-0002')];
    const error = await service('refuse')
      .ingest(client, batch, false)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('invalid');
    expect((error as DomainError).issues.map((i) => i.pointer)).toEqual(['/1/data/dossierCode']);
    expect((await store.head()).position).toBe(0);
  });
});
