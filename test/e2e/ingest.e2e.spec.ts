import { CloudEvent, HTTP } from 'cloudevents';
import type { AppendResult } from '#lgsp/event-store';
import { COMMUNE, dossierCode, getJson, post, statusChanged, submitted } from '../support/events.js';
import { eventually, runCli, startHubProcess, type HubProcess } from '../support/hub-process.js';

type Results = { results: AppendResult[] };

describe('a commune system pushes events to the hub process', () => {
  let hub: HubProcess;
  let token: string;

  beforeAll(async () => {
    hub = await startHubProcess();
    const created = await runCli(
      ['clients', 'create', '--name', 'binh-son-one-stop', '--communes', `${COMMUNE},21025`, '--json'],
      {
        LGSP_URL: hub.url,
        LGSP_TOKEN: hub.adminToken,
      },
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const parsed = JSON.parse(created.stdout) as { id: string; token: string };
    expect(parsed.id).toMatch(/^[0-9a-f-]{36}$/);
    token = parsed.token;
  });

  afterAll(async () => {
    await hub.stop();
  });

  const send = async (message: { headers: Record<string, unknown>; body: unknown }) => {
    const res = await fetch(`${hub.url}/v1/events`, {
      method: 'POST',
      headers: { ...(message.headers as Record<string, string>), authorization: `Bearer ${token}` },
      body: message.body as string,
    });
    return { status: res.status, body: (await res.json()) as Results };
  };

  it('accepts binary, structured and batch modes, reads them back in order, and does not append a resent event', async () => {
    const code = dossierCode();
    const s = submitted(code);
    const first = new CloudEvent({
      id: s.id as string,
      source: s.source as string,
      type: s.type as string,
      time: s.time as string,
      datacontenttype: 'application/json',
      data: s.data,
    });
    const binary = await send(HTTP.binary(first));
    expect(binary.status).toBe(201);
    expect(binary.body.results[0]).toMatchObject({
      id: first.id,
      stream: `dossier-${code}`,
      streamVersion: 1,
      duplicate: false,
    });

    const st = statusChanged(code, 2);
    const second = new CloudEvent({
      id: st.id as string,
      source: st.source as string,
      type: st.type as string,
      time: st.time as string,
      data: st.data,
      expectedversion: 1,
    });
    const structured = await send(HTTP.structured(second));
    expect(structured.status).toBe(201);
    expect(structured.body.results[0]).toMatchObject({ streamVersion: 2, duplicate: false });

    const batch = [statusChanged(code, 4), statusChanged(code, 6)];
    const batched = await post(hub.url, token, batch, 'application/cloudevents-batch+json');
    expect(batched.status).toBe(201);
    const batchResults = (batched.body as unknown as Results).results;
    expect(batchResults.map((r) => r.streamVersion)).toEqual([3, 4]);
    expect(batchResults[1]!.position).toBe(batchResults[0]!.position + 1);

    const stream = await getJson(`${hub.url}/v1/streams/dossier-${code}`, token);
    expect(stream.status).toBe(200);
    const events = stream.body.events as {
      streamVersion: number;
      position: number;
      event: { id: string; type: string };
    }[];
    expect(events.map((e) => e.event.id)).toEqual([first.id, second.id, batch[0]!.id, batch[1]!.id]);
    expect(events.map((e) => e.streamVersion)).toEqual([1, 2, 3, 4]);
    const positions = events.map((e) => e.position);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);

    // The SDK reads a stored event back as a valid CloudEvent.
    const roundTrip = new CloudEvent(events[0]!.event as never);
    expect(roundTrip.validate()).toBe(true);

    const resent = await send(HTTP.binary(first));
    expect(resent.status).toBe(200);
    expect(resent.body.results[0]).toMatchObject({
      duplicate: true,
      position: binary.body.results[0]!.position,
      streamVersion: 1,
    });
    const after = await getJson(`${hub.url}/v1/streams/dossier-${code}`, token);
    expect((after.body.events as unknown[]).length).toBe(4);

    const log = await getJson(`${hub.url}/v1/events?after=${positions[0]! - 1}&limit=10`, token);
    expect((log.body.events as { event: { id: string } }[]).map((e) => e.event.id)).toEqual(
      events.map((e) => e.event.id),
    );
  });

  it('stores a name sent in NFD as NFC, and the dossier projection shows it', async () => {
    const code = dossierCode();
    const nfd = 'Nguyễn Thị Hoà'.normalize('NFD');
    expect(nfd).not.toBe('Nguyễn Thị Hoà');
    const event = submitted(code);
    (event.data as { applicant: { fullName: string } }).applicant.fullName = nfd;
    const res = await post(hub.url, token, event);
    expect(res.status).toBe(201);

    const stream = await getJson(`${hub.url}/v1/streams/dossier-${code}`, token);
    const stored = (stream.body.events as { event: { data: { applicant: { fullName: string } } } }[])[0]!;
    expect(stored.event.data.applicant.fullName).toBe('Nguyễn Thị Hoà'.normalize('NFC'));

    const view = await eventually(async () => {
      const r = await getJson(`${hub.url}/v1/dossiers/${code}`, token);
      return r.status === 200 ? r.body : undefined;
    });
    expect(view).toMatchObject({
      dossierCode: code,
      communeCode: COMMUNE,
      applicant: { fullName: 'Nguyễn Thị Hoà'.normalize('NFC') },
      payment: { state: 'none', amountDue: 50000, amountPaid: 0 },
    });
    expect(JSON.stringify(view)).not.toContain('051190001234');
  });
});
