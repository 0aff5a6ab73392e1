import {
  CHAIN_START,
  GENESIS_HASH,
  recordHash,
  recordHashOfJson,
  verifyChain,
  verifyRecords,
  type ChainRecord,
  type StoredEvent,
} from '#lgsp/event-store';

/** A valid chain of `n` records as a store holds them (data as stored JSON text). */
function chain(n: number): ChainRecord[] {
  const out: ChainRecord[] = [];
  let prevHash = GENESIS_HASH;
  for (let position = 1; position <= n; position++) {
    const r = {
      position,
      stream: `dossier-${position % 3}`,
      streamVersion: Math.ceil(position / 3),
      id: `e${position}`,
      source: '/communes/21040',
      type: 'vn.gov.lgsp.dossier.status-changed.v1',
      recordedAt: '2026-01-01T00:00:00.000Z',
      dataJson: `{"n":${position},"text":"Nguyễn 👩‍👩‍👧"}`,
      extensionsJson: '{}',
      provinceCode: '51',
    };
    const hash = recordHashOfJson(prevHash, r, r.dataJson, r.extensionsJson);
    out.push({ ...r, prevHash, hash });
    prevHash = hash;
  }
  return out;
}

/** The rows with positions p and q exchanging their contents, as an UPDATE of two rows would leave them. */
function swapped(records: ChainRecord[], p: number, q: number): ChainRecord[] {
  const at = (position: number) => records[position - 1]!;
  return records.map((r) =>
    r.position === p ? { ...at(q), position: p } : r.position === q ? { ...at(p), position: q } : r,
  );
}

function replaced(records: ChainRecord[], position: number, change: Partial<ChainRecord>): ChainRecord[] {
  return records.map((r) => (r.position === position ? { ...r, ...change } : r));
}

describe('verifyRecords', () => {
  const log = chain(12);

  it('accepts an intact log and gives its head; an empty log holds with the genesis hash', async () => {
    expect(await verifyRecords(log)).toEqual({
      ok: true,
      events: 12,
      head: { position: 12, hash: log[11]!.hash },
    });
    expect(await verifyRecords([])).toEqual({ ok: true, events: 0, head: CHAIN_START });
  });

  it('names a record whose data changed by one byte as modified, even a change that parses alike', async () => {
    const r5 = log[4]!;
    for (const dataJson of [r5.dataJson.replace('"n":5', '"n":6'), r5.dataJson.replace('"n":5', '"n": 5')]) {
      expect(await verifyRecords(replaced(log, 5, { dataJson }))).toEqual({
        ok: false,
        events: 4,
        break: { position: 5, kind: 'modified', reason: 'stored hash does not match the record' },
      });
    }
    const otherAttribute = await verifyRecords(replaced(log, 7, { id: 'e7x' }));
    expect(otherAttribute).toMatchObject({ ok: false, break: { position: 7, kind: 'modified' } });
  });

  it('names a record whose stored hash or stored prevHash changed as modified', async () => {
    const stored = log[2]!.hash;
    const hash = `${stored.startsWith('a') ? 'b' : 'a'}${stored.slice(1)}`;
    expect(await verifyRecords(replaced(log, 3, { hash }))).toMatchObject({
      ok: false,
      break: { position: 3, kind: 'modified', reason: 'stored hash does not match the record' },
    });
    expect(await verifyRecords(replaced(log, 3, { prevHash: GENESIS_HASH }))).toMatchObject({
      ok: false,
      break: { position: 3, kind: 'modified', reason: 'stored prevHash was changed' },
    });
  });

  it('names the first position of a gap as missing, the first record included', async () => {
    expect(await verifyRecords(log.filter((r) => r.position !== 6))).toEqual({
      ok: false,
      events: 5,
      break: { position: 6, kind: 'missing', reason: 'no record at position 6; the next stored is 7' },
    });
    expect(await verifyRecords(log.filter((r) => r.position > 2))).toMatchObject({
      ok: false,
      events: 0,
      break: { position: 1, kind: 'missing' },
    });
  });

  it('names the first of two swapped records as out of order, and where its own record is', async () => {
    expect(await verifyRecords(swapped(log, 4, 9))).toEqual({
      ok: false,
      events: 3,
      break: {
        position: 4,
        kind: 'out-of-order',
        reason:
          'the record stored at position 4 does not follow position 3; its own record is stored at position 9',
        foundAt: 9,
      },
    });
    expect(await verifyRecords(swapped(log, 1, 2))).toMatchObject({
      ok: false,
      break: { position: 1, kind: 'out-of-order', foundAt: 2 },
    });
  });

  it('names a record renumbered into a deleted one’s place as out of order, with no record to point to', async () => {
    const renumbered = log
      .filter((r) => r.position !== 8)
      .map((r) => (r.position > 8 ? { ...r, position: r.position - 1 } : r));
    const verdict = await verifyRecords(renumbered);
    expect(verdict).toMatchObject({ ok: false, events: 7, break: { position: 8, kind: 'out-of-order' } });
    expect(verdict.ok || verdict.break.foundAt).toBeUndefined();
    const twice = [...log.slice(0, 5), log[4]!, ...log.slice(5)];
    expect(await verifyRecords(twice)).toMatchObject({
      ok: false,
      break: { position: 5, kind: 'out-of-order' },
    });
  });

  it('resumes after a known record, and refuses a log that does not follow it', async () => {
    const link = { position: 7, hash: log[6]!.hash };
    expect(await verifyRecords(log.slice(7), link)).toEqual({
      ok: true,
      events: 5,
      head: { position: 12, hash: log[11]!.hash },
    });
    expect(await verifyRecords(log.slice(7), { position: 7, hash: log[5]!.hash })).toMatchObject({
      ok: false,
      break: { position: 8, kind: 'out-of-order' },
    });
  });

  it('stops reading at a modified record, and reads on after an out-of-order one only until its own is found', async () => {
    let read = 0;
    async function* counted(records: ChainRecord[]) {
      for (const r of records) {
        read += 1;
        yield r;
      }
    }
    await verifyRecords(counted(replaced(log, 3, { dataJson: '{}' })));
    expect(read).toBe(3);
    read = 0;
    await verifyRecords(counted(swapped(log, 3, 6)));
    expect(read).toBe(6);
  });
});

describe('verifyChain', () => {
  const stored = (position: number, prevHash: string): StoredEvent => {
    const e = {
      position,
      stream: 'dossier-X-1',
      streamVersion: position,
      id: `e${position}`,
      source: '/communes/21040',
      type: 'vn.gov.lgsp.dossier.status-changed.v1',
      data: { b: 1, a: 'Nguyễn' },
      extensions: {},
      recordedAt: '2026-01-01T00:00:00.000Z',
    };
    return { ...e, prevHash, hash: recordHash(prevHash, e) };
  };

  it('verifies events read through the port and names the first break', () => {
    const first = stored(1, GENESIS_HASH);
    const second = stored(2, first.hash);
    const third = stored(3, second.hash);
    expect(verifyChain([first, second, third])).toEqual({ ok: true });
    expect(verifyChain([second, third], first.hash)).toEqual({ ok: true });
    expect(verifyChain([first, { ...second, data: { a: 'Nguyen', b: 1 } }])).toEqual({
      ok: false,
      position: 2,
      kind: 'modified',
      reason: 'stored hash does not match the record',
    });
    expect(verifyChain([first, stored(2, GENESIS_HASH)])).toMatchObject({
      ok: false,
      position: 2,
      kind: 'out-of-order',
    });
    expect(verifyChain([first, third])).toMatchObject({ ok: false, position: 2, kind: 'missing' });
    expect(verifyChain([second])).toMatchObject({ ok: false, position: 1, kind: 'missing' });
  });
});
