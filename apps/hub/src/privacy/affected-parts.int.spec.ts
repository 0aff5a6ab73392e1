import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomainError } from '#lgsp/contracts';
import { ANY_VERSION, type EventToAppend } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { PersonalDataCodec, SealingEventStore, SqlSubjectKeyStore } from '#lgsp/privacy';
import type { Client } from '#lgsp/security';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import type { WebhookRecord } from '#lgsp/webhooks';
import { affectedParts, type AffectedFinder, type AffectedRequest } from './affected-parts.js';

const SUBMITTED = 'vn.gov.lgsp.dossier.submitted.v1';
const STATUS_CHANGED = 'vn.gov.lgsp.dossier.status-changed.v1';
const PLACES = { '51': '21040', '79': '25747' } as const;
const WEBHOOK = 'wh_01jexample00000000000000000';

const client = (name: string, over: Partial<Client>): Client => ({
  id: `c-${name}`,
  name,
  role: 'province',
  communeCodes: [],
  sources: [],
  createdAt: '2026-12-01T00:00:00.000Z',
  ...over,
});
const CLIENTS = [
  client('so-79', { provinceCode: '79' }),
  client('xa-21040', { role: 'commune', provinceCode: '51', communeCodes: ['21040'] }),
  client('ops', { role: 'operator' }),
];

const webhook: WebhookRecord = {
  id: WEBHOOK,
  url: 'https://province.example/hooks',
  filter: { provinces: ['51'], types: [SUBMITTED] },
  ratePerSecond: 50,
  state: 'active',
  createdBy: 'ops',
  createdAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
  secret: 'whsec_x',
  cursor: 0,
  deliveredThrough: 0,
  revision: 1,
};

function event(n: number, province: '51' | '79', type = SUBMITTED): EventToAppend {
  const code = `D-${n}`;
  return {
    stream: `dossier-${code}`,
    expectedVersion: ANY_VERSION,
    id: `e-${n}-${type}`,
    source: `/communes/${PLACES[province]}`,
    type,
    data:
      type === SUBMITTED
        ? { dossierCode: code, applicant: { fullName: `Người ${n}`, idNumber: `0${province}19000000${n}` } }
        : { dossierCode: code, status: 4 },
    extensions: {},
    provinceCode: province,
    communeCode: PLACES[province],
  };
}

describe('who was affected, by target name, against the hub parts', () => {
  let dir: string;
  let events: SqliteEventStore;
  let db: SqliteDatabase;
  let finder: AffectedFinder;
  const window = { from: 0, to: Date.now() + 3_600_000 };
  const names = async (request: Partial<AffectedRequest>) =>
    (await finder.find({ window, limit: 100, ...request })).subjects.map((s) => s.fields.fullName).sort();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lgsp-affected-parts-'));
    const file = join(dir, 'events.db');
    events = SqliteEventStore.open({ file });
    db = SqliteDatabase.open(file);
    const codec = new PersonalDataCodec(await SqlSubjectKeyStore.open(db));
    // Positions 1-4: dossiers 1 (51), 2 (79), 3 (51), 4 (79); 5: status change of dossier 2.
    await new SealingEventStore(events, codec).append([
      event(1, '51'),
      event(2, '79'),
      event(3, '51'),
      event(4, '79'),
      event(2, '79', STATUS_CHANGED),
    ]);
    await events.checkpoints.save('relay.kafka', 3);
    await events.checkpoints.save('connector.civil-registry', 5);
    finder = affectedParts({
      events,
      codec,
      checkpoints: events.checkpoints,
      connectors: [
        {
          name: 'connector.civil-registry',
          target: 'civil-registry',
          filter: { types: [SUBMITTED, STATUS_CHANGED] },
          wants: (e) => e.type === STATUS_CHANGED,
        },
      ],
      webhooks: {
        record: (id) =>
          Promise.resolve(id === WEBHOOK ? { ...webhook, deliveredThrough: 3, cursor: 4 } : undefined),
      },
      relay: { name: 'relay.kafka' },
      clients: { findByName: (name) => Promise.resolve(CLIENTS.find((c) => c.name === name)) },
    });
  });

  afterAll(async () => {
    await db.close();
    await events.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a connector: the dossiers of the events it acts on, up to its checkpoint', async () => {
    expect(await names({ target: 'civil-registry' })).toEqual(['Người 2']);
  });

  it('the Kafka relay: what it published, up to its checkpoint', async () => {
    expect(await names({ target: 'kafka' })).toEqual(['Người 1', 'Người 2', 'Người 3']);
  });

  it("a Kafka consumer: the relay's events within the client's read scope", async () => {
    expect(await names({ target: 'kafka:so-79' })).toEqual(['Người 2']);
    expect(await names({ target: 'kafka:xa-21040' })).toEqual(['Người 1', 'Người 3']);
  });

  it("a webhook: its filter's events up to its delivered-through mark", async () => {
    expect(await names({ target: `webhook:${WEBHOOK}` })).toEqual(['Người 1', 'Người 3']);
  });

  it.each(['kafka:ops', 'kafka:nobody', 'kafka:', 'webhook:wh_01jnothere000000000000000000', 'portal', 'x'])(
    'refuses %s, which names nothing this hub sends to, with a 422 at /target',
    async (target) => {
      const err: unknown = await finder.find({ window, limit: 10, target }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DomainError);
      expect(err).toMatchObject({
        code: 'invalid',
        issues: [expect.objectContaining({ pointer: '/target' })],
      });
    },
  );
});
