// The optional ingest check of dossier and agency codes against the forms the national portal
// accepts (LGSP_INGEST_CODE_CHECK), driven over HTTP as a commune's one-stop shop would.
import { streamOf, type CloudEvent } from '#lgsp/contracts';
import { getJson, post, submitted } from '../support/events.js';
import { createCommuneClient, startHubProcess, type HubProcess } from '../support/hub-process.js';

const GOOD = () => `000.00.51.H56-251123-${String(Math.floor(Math.random() * 90_000) + 10_000)}`;
const BAD = () => `HS-${Math.random().toString(36).slice(2, 8).toUpperCase()}`;

describe.each(['refuse', 'warn'] as const)('LGSP_INGEST_CODE_CHECK=%s', (mode) => {
  let hub: HubProcess;
  let token: string;
  beforeAll(async () => {
    hub = await startHubProcess({ env: { LGSP_INGEST_CODE_CHECK: mode } });
    token = await createCommuneClient(hub, `code-check-${mode}`);
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('accepts a code of the portal form without a warning', async () => {
    const code = GOOD();
    const answer = await post(hub.url, token, submitted(code));
    expect(answer.status).toBe(201);
    expect(answer.body).not.toHaveProperty('warnings');
  });

  it(`${mode === 'refuse' ? 'refuses' : 'stores and warns about'} a code the portal would refuse`, async () => {
    const code = BAD();
    const answer = await post(hub.url, token, submitted(code, { data: undefined }));
    const event = submitted(code);
    (event.data as Record<string, unknown>).agencyCode = 'UBND.BS';
    const second = await post(hub.url, token, event);
    const stream = await getJson(`${hub.url}/v1/streams/${streamOf(event as unknown as CloudEvent)}`, token);
    if (mode === 'refuse') {
      expect(second.status).toBe(422);
      expect(second.contentType).toMatch(/^application\/problem\+json/);
      expect(second.body.errors).toEqual([
        { pointer: '/data/dossierCode', message: expect.stringContaining(code) },
        { pointer: '/data/agencyCode', message: expect.stringContaining('UBND.BS') },
      ]);
      expect(stream.status).toBe(404);
    } else {
      expect(second.status).toBe(201);
      expect(second.body.warnings).toEqual([
        { pointer: '/data/dossierCode', message: expect.stringContaining(code) },
        { pointer: '/data/agencyCode', message: expect.stringContaining('UBND.BS') },
      ]);
      expect(stream.status).toBe(200);
      expect(stream.body.version).toBe(1);
    }
    // The event without data is refused by its schema in either mode, before the code check.
    expect(answer.status).toBe(422);
  });
});

it('stops start-up on an unknown mode, naming the variable', async () => {
  await expect(startHubProcess({ env: { LGSP_INGEST_CODE_CHECK: 'strict' } })).rejects.toThrow(
    /LGSP_INGEST_CODE_CHECK: must be one of off, warn, refuse/,
  );
});
