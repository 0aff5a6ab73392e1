import { SqlParkingStore } from '../core/parking/sql-parking-store.js';
import { CivilRegistryClient } from './civil-registry-client.js';
import { CIVIL_REGISTRY_TARGET } from './civil-registry-mapping.js';
import { CivilRegistryResultPoller } from './civil-registry-result-poller.js';
import {
  birthDossier,
  captured,
  connector,
  control,
  logOf,
  newCode,
  plan,
  poller,
  REGISTRATION,
  registrations,
  sink,
  store,
  url,
  openPending,
  registeredBirth,
} from './civil-registry-flow.testing.js';
import { SqliteDatabase } from '#lgsp/storage/sqlite';

describe('failures the hub must survive', () => {
  /** A logger that keeps every entry, to check what reaches the logs. */
  const recorder = () => {
    const entries: { level: string; obj: object; msg: string }[] = [];
    const at = (level: string) => (obj: object, msg: string) => void entries.push({ level, obj, msg });
    return {
      entries,
      logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
    };
  };

  it('parks a dossier the registry refuses (400) as a data error, without polling anything', async () => {
    await plan('done');
    const code = newCode();
    await birthDossier(code, {
      ...REGISTRATION,
      person: { ...REGISTRATION.person, fullName: 'Nguyễn '.repeat(20) },
    });
    const pending = await openPending();
    const parking = new SqlParkingStore(SqliteDatabase.open(':memory:'));

    expect((await connector(pending, parking).deliver(await logOf([code]))).map((o) => o.status)).toEqual([
      'parked',
    ]);

    const [parked] = await parking.list({ limit: 10 });
    expect(parked).toMatchObject({ target: CIVIL_REGISTRY_TARGET, dossier: code, kind: 'data', attempts: 1 });
    expect(parked!.lastError).toContain('400');
    expect(JSON.stringify(parked)).not.toContain('Nguyễn');
    expect(await pending.count(CIVIL_REGISTRY_TARGET)).toBe(0);
  });

  it('logs a malformed date from the registry as a data error, keeps the item and captures it once fixed', async () => {
    await plan('done');
    const { code, pending } = await registeredBirth();
    const real = new CivilRegistryClient({ baseUrl: url, timeoutMs: 2000 });
    let garbled = 0;
    // The registry's first registration day comes in the person-date form (dd.MM.yyyy), as a faulty
    // release might send it.
    const client: Pick<CivilRegistryClient, 'results' | 'receive'> = {
      receive: (r) => real.receive(r),
      results: async (query) => {
        const results = await real.results(query);
        const result = results.get(code);
        if (result?.trangThai !== 4 || garbled++ > 0) return results;
        return new Map([[code, { ...result, ngayDangKy: '25.11.2025' }]]);
      },
    };
    const { entries, logger } = recorder();
    const p = new CivilRegistryResultPoller({
      client,
      pending,
      sink,
      events: store,
      pollIntervalMs: 0,
      backoff: { initialDelayMs: 0, maxDelayMs: 0 },
      logger,
    });

    expect(await p.pollOnce()).toEqual({ polled: 1, appended: 0, final: 0 });
    expect(await p.pollOnce()).toEqual({ polled: 1, appended: 0, final: 0 });
    expect(await p.pollOnce()).toEqual({ polled: 1, appended: 0, final: 0 });
    const failed = entries.find((e) => e.level === 'error');
    expect(failed?.obj).toMatchObject({ dossier: code, code: 'mapping', kind: 'data', failures: 1 });
    expect((await pending.get(CIVIL_REGISTRY_TARGET, code))!.payload).toMatchObject({
      failures: 1,
    });

    expect(await p.pollOnce()).toEqual({ polled: 1, appended: 2, final: 1 });
    expect((await captured(code)).map(([type]) => type)).toEqual([
      'civil-status.registered',
      'dossier.status-changed',
    ]);
    const logged = JSON.stringify(entries);
    for (const personal of ['Khang', 'Hoà', '051190001234', registrations()[0]!.soDinhDanh!]) {
      expect(logged).not.toContain(personal);
    }
  });

  it('stop() appends nothing once asked: the item stays due, unchanged, and its result is captured once after the restart', async () => {
    await plan('supplement');
    const { code, pending } = await registeredBirth();
    await poller(pending).pollOnce(); // 1: received
    const before = await pending.get(CIVIL_REGISTRY_TARGET, code);
    await control('PUT', '/_sim/faults', { latency: 300, operations: ['LayKetQua'] });
    const p = poller(pending, { idleMs: 10_000 });

    p.start();
    await new Promise((r) => setTimeout(r, 100));
    await p.stop();

    // The answer came after the stop: nothing is appended (a shutdown takes no new work), nothing lost.
    expect(await captured(code)).toEqual([]);
    expect(await pending.get(CIVIL_REGISTRY_TARGET, code)).toEqual(before);
    await control('PUT', '/_sim/faults', {});
    // Restarted: the item is polled again until the registry decides it; the result is captured once.
    // (Polling samples the registry's state: a status it passed through between two polls is not seen.)
    const again = poller(pending);
    for (let i = 0; i < 20 && (await pending.get(CIVIL_REGISTRY_TARGET, code)) !== undefined; i++)
      await again.pollOnce();
    expect(await pending.get(CIVIL_REGISTRY_TARGET, code)).toBeUndefined();
    expect((await captured(code)).filter(([type]) => type === 'civil-status.registered')).toHaveLength(1);
  });
});
