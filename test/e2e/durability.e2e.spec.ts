import { dossierCode, getJson, paymentCompleted, post, statusChanged, submitted } from '../support/events.js';
import {
  eventually,
  startHubProcess,
  tempDir,
  type HubProcess,
  createCommuneClient,
} from '../support/hub-process.js';

type Wire = {
  position: number;
  stream: string;
  streamVersion: number;
  event: { id: string; type: string; data: { amount?: number } };
};

async function readAll(url: string, token: string): Promise<Wire[]> {
  const all: Wire[] = [];
  for (let after = 0; ;) {
    const page = await getJson(`${url}/v1/events?after=${after}&limit=1000`, token);
    const events = page.body.events as Wire[];
    if (events.length === 0) return all;
    all.push(...events);
    after = page.body.next as number;
  }
}

describe('durability: SIGKILL right after a 201', () => {
  let hub: HubProcess | undefined;
  afterEach(async () => {
    await hub?.stop();
  });

  it('keeps every acknowledged event, and the projection catches up without skipping or repeating', async () => {
    const dataDir = tempDir();
    const adminToken = 'durability-admin-token';
    hub = await startHubProcess({ dataDir, adminToken });
    const token = await createCommuneClient(hub, 'c');

    const acknowledged = new Set<string>();
    const KILL_AFTER = 400;
    let killed: Promise<void> | undefined;
    const first = hub;
    // 16 writers, each taking dossiers through a lifecycle one event at a time.
    const writer = async (): Promise<void> => {
      while (!killed) {
        const code = dossierCode();
        for (const event of [
          submitted(code),
          statusChanged(code, 6),
          paymentCompleted(code, 50000),
          statusChanged(code, 9),
        ]) {
          let res;
          try {
            res = await post(first.url, token, event);
          } catch {
            return; // the connection died with the process
          }
          if (res.status !== 201) throw new Error(`unexpected ${res.status}: ${JSON.stringify(res.body)}`);
          acknowledged.add(event.id as string);
          if (acknowledged.size >= KILL_AFTER && !killed) killed = first.kill();
          if (killed) return;
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, writer));
    await killed;
    expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER);

    hub = await startHubProcess({ dataDir, adminToken });
    const events = await readAll(hub.url, adminToken);
    const stored = new Set(events.map((e) => e.event.id));
    const missing = [...acknowledged].filter((id) => !stored.has(id));
    expect(missing).toEqual([]);
    expect(events.map((e) => e.position)).toEqual(events.map((_, i) => i + 1));

    await eventually(async () => {
      const subs = await getJson(`${hub!.url}/v1/admin/subscriptions`, adminToken);
      const projection = (subs.body.subscriptions as { name: string; lagEvents: number }[]).find(
        (s) => s.name === 'projection.dossiers',
      );
      return projection && projection.lagEvents === 0 ? true : undefined;
    }, 20_000);

    const byStream = new Map<string, Wire[]>();
    for (const e of events) byStream.set(e.stream, [...(byStream.get(e.stream) ?? []), e]);
    for (const [stream, streamEvents] of byStream) {
      const code = stream.slice('dossier-'.length);
      const view = (await getJson(`${hub.url}/v1/dossiers/${code}`, adminToken)).body as {
        eventCount: number;
        streamVersion: number;
        lastPosition: number;
        payment: { amountPaid: number };
      };
      const paid = streamEvents
        .filter((e) => e.event.type === 'vn.gov.lgsp.payment.completed.v1')
        .reduce((sum, e) => sum + (e.event.data.amount ?? 0), 0);
      expect({
        stream,
        eventCount: view.eventCount,
        version: view.streamVersion,
        paid: view.payment.amountPaid,
        last: view.lastPosition,
      }).toEqual({
        stream,
        eventCount: streamEvents.length,
        version: streamEvents.length,
        paid,
        last: streamEvents[streamEvents.length - 1]!.position,
      });
    }
  });
});
