import { ManualClock } from '#lgsp/observability';
import type { PortalProcedure } from './portal-mapping.js';
import { ProcedureCatalogue } from './procedure-catalogue.js';

const procedureOf = (code: string): PortalProcedure => ({
  code,
  name: `Thủ tục ${code}`,
  sectors: [{ code: 'G09-TP01', name: 'Hộ tịch' }],
});

/** A `LayThuTuc` that knows `known` codes and counts its calls per code. */
function source(known: readonly string[]) {
  const calls: string[] = [];
  return {
    calls,
    procedure: async (code: string) => {
      calls.push(code);
      await new Promise((r) => setTimeout(r, 1));
      return known.includes(code) ? procedureOf(code) : undefined;
    },
  };
}

describe('ProcedureCatalogue', () => {
  it('looks a procedure up once, and serves it from the cache until its time to live ends', async () => {
    const clock = new ManualClock(0);
    const client = source(['1.001193']);
    const catalogue = new ProcedureCatalogue({ client, ttlMs: 1000, clock });
    expect(catalogue.peek('1.001193')).toBeUndefined();
    expect(await catalogue.find('1.001193')).toEqual(procedureOf('1.001193'));
    expect(await catalogue.find('1.001193')).toEqual(procedureOf('1.001193'));
    expect(catalogue.peek('1.001193')).toEqual(procedureOf('1.001193'));
    expect(client.calls).toEqual(['1.001193']);
    await clock.advance(1000);
    expect(catalogue.peek('1.001193')).toBeUndefined();
    await catalogue.find('1.001193');
    expect(client.calls).toEqual(['1.001193', '1.001193']);
  });

  it('shares one call between concurrent look-ups of a code', async () => {
    const client = source(['1.001193']);
    const catalogue = new ProcedureCatalogue({ client });
    const found = await Promise.all(Array.from({ length: 5 }, () => catalogue.find('1.001193')));
    expect(found.every((p) => p?.code === '1.001193')).toBe(true);
    expect(client.calls).toHaveLength(1);
  });

  it('keeps at most maxEntries, forgetting the least recently used first', async () => {
    const client = source(['1.000001', '1.000002', '1.000003']);
    const catalogue = new ProcedureCatalogue({ client, maxEntries: 2 });
    await catalogue.find('1.000001');
    await catalogue.find('1.000002');
    await catalogue.find('1.000001'); // used again: 1.000002 is now the oldest
    await catalogue.find('1.000003');
    expect(catalogue.size).toBe(2);
    expect(catalogue.peek('1.000002')).toBeUndefined();
    expect(catalogue.peek('1.000001')).toBeDefined();
    expect(catalogue.peek('1.000003')).toBeDefined();
  });

  it('does not cache a procedure the portal does not know, so a catalogue update is seen', async () => {
    const known: string[] = [];
    const client = {
      procedure: async (code: string) => (known.includes(code) ? procedureOf(code) : undefined),
    };
    const catalogue = new ProcedureCatalogue({ client });
    expect(await catalogue.find('1.003583')).toBeUndefined();
    known.push('1.003583');
    expect(await catalogue.find('1.003583')).toEqual(procedureOf('1.003583'));
  });

  it('looks a local code up by its national part when the portal does not know it', async () => {
    const client = source(['1.000894']);
    const catalogue = new ProcedureCatalogue({ client });
    expect((await catalogue.find('1.000894.000.00.00.H56'))?.code).toBe('1.000894');
    expect(client.calls).toEqual(['1.000894.000.00.00.H56', '1.000894']);
    expect(catalogue.peek('1.000894.000.00.00.H56')?.code).toBe('1.000894');
  });

  it('makes an unknown procedure a mapping error naming it, so the dossier parks with that reason', async () => {
    const catalogue = new ProcedureCatalogue({ client: source([]) });
    await expect(catalogue.get('9.999999', '000.00.51.H56-251123-0001')).rejects.toMatchObject({
      kind: 'data',
      code: 'mapping',
      target: 'portal',
      message: expect.stringMatching(/9\.999999.*catalogue/),
    });
  });

  it('passes on a failure of the portal (no caching, no parking reason of its own)', async () => {
    const failing = {
      procedure: async () => {
        throw new Error('portal down');
      },
    };
    await expect(new ProcedureCatalogue({ client: failing }).find('1.001193')).rejects.toThrow('portal down');
  });

  it('refuses a time to live or a size that makes no sense', () => {
    const client = source([]);
    expect(() => new ProcedureCatalogue({ client, ttlMs: 0 })).toThrow(RangeError);
    expect(() => new ProcedureCatalogue({ client, maxEntries: 0 })).toThrow(RangeError);
  });
});
