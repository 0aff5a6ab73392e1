import { AdminUnits, DomainError, findRepoFile, type CloudEvent } from '#lgsp/contracts';
import type { AppendResult } from '#lgsp/event-store';
import { flush, ManualClock } from '../core/clock.js';
import { ConnectorError } from '../core/errors.js';
import type { EventSink } from '../core/event-sink.js';
import type { PortalOnlinePage, PortalOnlineSubmission } from './external/portal-online-wire.js';
import { OnlineSubmissionCapture, PORTAL_ONLINE_CHECKPOINT, type CursorStore } from './online-capture.js';

const units = AdminUnits.load(findRepoFile('../shared/data/admin-units-2025.json'));

const submission = (
  position: number,
  overrides: Partial<PortalOnlineSubmission> = {},
): PortalOnlineSubmission => ({
  ViTri: position,
  MaHoSo: `000.00.00.G22-251123-${String(position).padStart(4, '0')}`,
  MaTTHC: '1.001193',
  TenTTHC: 'Đăng ký khai sinh',
  ChuHoSo: 'Nguyễn Thị Hoà',
  DinhDanhCHS: [{ LoaiDinhDanh: 1, SoDinhDanh: '051190001234' }],
  NgayTiepNhan: '20251123091500',
  MaDonVi: '21040',
  ...overrides,
});

/** A feed over a list, as the portal pages it: the submissions after the cursor. */
class FakeFeed {
  calls: { cursor: number; limit: number }[] = [];
  failures: unknown[] = [];
  /** When set, calls wait for it (to stop the capture in the middle of a call). */
  gate: Promise<void> | undefined;
  constructor(public items: PortalOnlineSubmission[]) {}

  async listOnlineSubmissions(
    cursor: number,
    limit: number,
    signal?: AbortSignal,
  ): Promise<PortalOnlinePage> {
    this.calls.push({ cursor, limit });
    if (this.gate) {
      const gate = this.gate;
      await new Promise<void>((resolve, reject) => {
        void gate.then(resolve);
        signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      });
    }
    const failure = this.failures.shift();
    if (failure !== undefined) throw failure;
    const submissions = this.items.filter((s) => s.ViTri > cursor).slice(0, limit);
    return { submissions, last: submissions.at(-1)?.ViTri ?? cursor };
  }
}

/** A sink that keeps events by id, refuses a name it is told to, and can be held mid-append. */
class FakeSink implements EventSink {
  stored = new Map<string, CloudEvent>();
  batches: number[] = [];
  refuseName: string | undefined;
  hold: Promise<void> | undefined;

  async append(events: readonly CloudEvent[]): Promise<AppendResult[]> {
    this.batches.push(events.length);
    if (this.hold) await this.hold;
    const bad = events.findIndex(
      (e) => (e.data as { applicant: { fullName: string } }).applicant.fullName === this.refuseName,
    );
    if (bad >= 0) {
      throw new DomainError('invalid', '1 schema violation(s)', [
        { pointer: `/${bad}/data/applicant/fullName`, message: 'must NOT have more than 200 characters' },
      ]);
    }
    return events.map((e, i) => {
      const duplicate = this.stored.has(e.id);
      if (!duplicate) this.stored.set(e.id, e);
      return {
        id: e.id,
        source: e.source,
        stream: `dossier-${e.subject}`,
        streamVersion: 1,
        position: i + 1,
        duplicate,
      };
    });
  }
}

class MemoryCursor implements CursorStore {
  values = new Map<string, number>();
  saves: number[] = [];
  load(name: string): Promise<number> {
    return Promise.resolve(this.values.get(name) ?? 0);
  }
  save(name: string, value: number): Promise<void> {
    this.saves.push(value);
    this.values.set(name, value);
    return Promise.resolve();
  }
}

function setup(items: PortalOnlineSubmission[], pageSize = 2) {
  const feed = new FakeFeed(items);
  const sink = new FakeSink();
  const cursor = new MemoryCursor();
  const clock = new ManualClock(Date.parse('2025-11-23T02:00:00Z'));
  const capture = new OnlineSubmissionCapture({
    client: feed,
    sink,
    cursor,
    adminUnits: units,
    pollIntervalMs: 1000,
    pageSize,
    clock,
  });
  return { feed, sink, cursor, clock, capture };
}

describe('OnlineSubmissionCapture', () => {
  it('saves the cursor after each page is appended, asking from the last position', async () => {
    const { feed, sink, cursor, capture } = setup([1, 2, 3, 4, 5].map((n) => submission(n)));
    expect(await capture.pollOnce()).toEqual({ fetched: 5, appended: 5, duplicates: 0, refused: [] });
    expect(feed.calls).toEqual([
      { cursor: 0, limit: 2 },
      { cursor: 2, limit: 2 },
      { cursor: 4, limit: 2 },
    ]);
    expect(sink.batches).toEqual([2, 2, 1]);
    expect(cursor.saves).toEqual([2, 4, 5]);
    expect(cursor.values.get(PORTAL_ONLINE_CHECKPOINT)).toBe(5);
  });

  it('reads one more page after a full one and stops on the empty answer', async () => {
    const { feed, capture } = setup([1, 2].map((n) => submission(n)));
    expect((await capture.pollOnce()).fetched).toBe(2);
    expect(feed.calls.map((c) => c.cursor)).toEqual([0, 2]);
  });

  it('refuses a malformed receipt time and moves the cursor past it', async () => {
    const { sink, cursor, capture } = setup([
      submission(1, { NgayTiepNhan: '20251131091500' }),
      submission(2),
    ]);
    const outcome = await capture.pollOnce();
    expect(outcome.appended).toBe(1);
    expect(outcome.refused).toEqual([
      {
        position: 1,
        dossierCode: '000.00.00.G22-251123-0001',
        reason: 'received-at',
        detail: 'NgayTiepNhan 20251131091500 is not a real yyyyMMddHHmmss time',
        refusedAt: '2025-11-23T09:00:00+07:00',
      },
    ]);
    expect(sink.stored.size).toBe(1);
    expect(cursor.values.get(PORTAL_ONLINE_CHECKPOINT)).toBe(2);
  });

  it('when the ingest refuses a batch, appends the others one by one and refuses only the bad one', async () => {
    const { sink, capture } = setup(
      [submission(1), submission(2, { ChuHoSo: 'Too Long' }), submission(3)],
      10,
    );
    sink.refuseName = 'Too Long';
    const outcome = await capture.pollOnce();
    expect(outcome).toMatchObject({ fetched: 3, appended: 2, duplicates: 0 });
    expect(outcome.refused).toMatchObject([
      {
        position: 2,
        reason: 'invalid',
        detail: 'the ingest refused it: /data/applicant/fullName must NOT have more than 200 characters',
      },
    ]);
    expect(sink.batches).toEqual([3, 1, 1, 1]);
  });

  it('counts a dossier the feed lists twice once', async () => {
    const { sink, capture } = setup([submission(1), { ...submission(1), ViTri: 2 }], 10);
    expect(await capture.pollOnce()).toMatchObject({ fetched: 2, appended: 1, duplicates: 1 });
    expect(sink.batches).toEqual([1]);
  });

  it('ignores submissions at or before the cursor that the portal sends back', async () => {
    const { feed, sink, cursor, capture } = setup([submission(1), submission(2), submission(3)], 10);
    await cursor.save(PORTAL_ONLINE_CHECKPOINT, 2);
    feed.listOnlineSubmissions = (c, limit) =>
      Promise.resolve({ submissions: feed.items.slice(0, limit), last: 3 });
    expect((await capture.pollOnce()).fetched).toBe(1);
    expect([...sink.stored.keys()]).toEqual(['portal-online:000.00.00.G22-251123-0003']);
  });

  it('never runs two rounds at once', async () => {
    const { feed, sink, capture } = setup([submission(1)], 10);
    let release!: () => void;
    sink.hold = new Promise((r) => (release = r));
    const first = capture.pollOnce();
    const second = capture.pollOnce();
    await flush();
    expect(feed.calls).toHaveLength(1);
    release();
    expect((await first).appended).toBe(1);
    expect((await second).fetched).toBe(0);
    expect(feed.calls.map((c) => c.cursor)).toEqual([0, 1]);
  });

  it('the loop waits the poll interval, or the Retry-After of a failure when longer', async () => {
    const { feed, clock, capture } = setup([submission(1)], 10);
    feed.failures.push(
      new ConnectorError('portal answered 503', {
        kind: 'retriable',
        code: 'unavailable',
        target: 'portal',
        retryAfterMs: 5000,
      }),
    );
    capture.start();
    await flush();
    expect(feed.calls).toHaveLength(1);
    await clock.advance(4999);
    expect(feed.calls).toHaveLength(1);
    await clock.advance(1);
    expect(feed.calls).toHaveLength(2);
    await clock.advance(1000);
    expect(feed.calls).toHaveLength(3);
    await capture.stop();
    await clock.advance(10_000);
    expect(feed.calls).toHaveLength(3);
  });

  it('stop() waits for an append in flight and its cursor save', async () => {
    const { sink, cursor, capture } = setup([submission(1)], 10);
    let release!: () => void;
    sink.hold = new Promise((r) => (release = r));
    capture.start();
    await flush();
    let stopped = false;
    const stopping = capture.stop().then(() => (stopped = true));
    await flush();
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(sink.stored.size).toBe(1);
    expect(cursor.values.get(PORTAL_ONLINE_CHECKPOINT)).toBe(1);
  });

  it('stop() cancels a portal call in flight, leaving the cursor', async () => {
    const { feed, cursor, capture } = setup([submission(1)], 10);
    feed.gate = new Promise(() => undefined);
    capture.start();
    await flush();
    await capture.stop();
    expect(cursor.saves).toEqual([]);
  });

  it('a refusal repeated after a failed cursor save is kept once in memory', async () => {
    const { cursor, capture } = setup([submission(1, { MaDonVi: '51' })], 10);
    const save = cursor.save.bind(cursor);
    cursor.save = () => Promise.reject(new Error('the checkpoint write failed'));
    await expect(capture.pollOnce()).rejects.toThrow('the checkpoint write failed');
    cursor.save = save;
    expect((await capture.pollOnce()).refused).toHaveLength(1);
    expect(capture.refused().map((r) => [r.position, r.reason])).toEqual([[1, 'province-only']]);
  });

  it('refuses a page size the portal does not take', () => {
    expect(() => setup([], 1001)).toThrow(RangeError);
  });
});
