import { EventSchemas, eventCatalogue, isHubEmitted } from '#lgsp/contracts';
import { runCli } from './cli.js';
import { fakeHub, io } from './fake-hub.testing.js';

const V2 = 'vn.gov.lgsp.dossier.submitted.v2';

/** A hub answering the catalogue as the real one computes it. */
function hub() {
  const schemas = EventSchemas.shared();
  return fakeHub({
    'GET /v1/schemas': () => [200, { events: eventCatalogue(schemas, isHubEmitted) }],
    [`GET /v1/schemas/${V2}`]: () => [
      200,
      {
        type: V2,
        name: 'dossier.submitted',
        version: 2,
        newest: 2,
        schemaId: 'https://schemas.lgsp-hub.vn/events/dossier.submitted/v2.json',
        schema: schemas.schema(V2),
        downcastDrops: ['persons[] with role co-applicant (v1 holds the applicant only)'],
      },
    ],
  });
}

describe('lgsp schemas', () => {
  it('list prints every event with its versions, who sends it, and the lossy downcasts', async () => {
    const h = await hub();
    try {
      const { cli, out } = io(h.url);
      expect(await runCli(['schemas', 'list'], cli)).toBe(0);
      expect(out.stdout).toMatch(/EVENT\s+VERSION\s+TYPE\s+SENT BY\s+SCHEMA/);
      expect(out.stdout).toMatch(/dossier\.submitted\s+v1\s+vn\.gov\.lgsp\.dossier\.submitted\.v1\s+clients/);
      expect(out.stdout).toMatch(
        /dossier\.submitted\s+v2 \(newest\)\s+vn\.gov\.lgsp\.dossier\.submitted\.v2/,
      );
      expect(out.stdout).toMatch(/person\.erased\s+v1 \(newest\)\s+vn\.gov\.lgsp\.person\.erased\.v1\s+hub/);
      expect(out.stdout).toContain('dossier.submitted v2 → v1 drops persons[] with role co-applicant');
      const json = io(h.url);
      expect(await runCli(['schemas', 'list', '--json'], json.cli)).toBe(0);
      expect(
        JSON.parse(json.out.stdout).events.find((e: { name: string }) => e.name === 'dossier.submitted'),
      ).toMatchObject({
        newest: 2,
        versions: [{ version: 1 }, { version: 2, type: V2 }],
      });
    } finally {
      await h.close();
    }
  });

  it('show prints one type: version, schema, required and known fields; --json the schema itself', async () => {
    const h = await hub();
    try {
      const { cli, out } = io(h.url);
      expect(await runCli(['schemas', 'show', V2], cli)).toBe(0);
      expect(out.stdout).toMatch(/version:\s+v2 \(newest\)/);
      expect(out.stdout).toMatch(
        /schema:\s+https:\/\/schemas\.lgsp-hub\.vn\/events\/dossier\.submitted\/v2\.json/,
      );
      expect(out.stdout).toMatch(/required:\s+dossierCode, procedureCode, .*persons, receivedAt/);
      expect(out.stdout).toContain('downcast drops:');
      const json = io(h.url);
      expect(await runCli(['schemas', 'show', V2, '--json'], json.cli)).toBe(0);
      expect(JSON.parse(json.out.stdout).schema.title).toBe('DossierSubmittedV2');
    } finally {
      await h.close();
    }
  });

  it("exits 2 without a type, and with the hub's problem for an unknown one", async () => {
    const h = await hub();
    try {
      const missing = io(h.url);
      expect(await runCli(['schemas', 'show'], missing.cli)).toBe(2);
      const unknown = io(h.url);
      expect(await runCli(['schemas', 'show', 'vn.gov.lgsp.nothing.v1'], unknown.cli)).toBe(3);
      expect(unknown.out.stderr).toContain('no GET /v1/schemas/vn.gov.lgsp.nothing.v1');
    } finally {
      await h.close();
    }
  });
});
