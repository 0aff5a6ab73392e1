// The replay topic as schemas/asyncapi.yaml describes it: the address KafkaTopics.replay builds, a send
// operation, and every header of the province topics plus LGSP_REPLAY_HEADER, required.
import { Parser, fromFile, type AsyncAPIDocumentInterface } from '@asyncapi/parser';
import { findRepoFile } from '#lgsp/contracts';
import { KafkaTopics, LGSP_REPLAY_HEADER } from '#lgsp/kafka';

const REPLAY_CHANNEL = 'lgsp.replay.{consumer}';
const PROVINCE_CHANNEL = 'lgsp.events.province.{provinceCode}';

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Header names of a schema and of those it combines with `allOf`; `required` ones separately. */
function headers(schema: unknown): { all: Set<string>; required: Set<string> } {
  const all = new Set<string>();
  const required = new Set<string>();
  if (!isRecord(schema)) return { all, required };
  for (const part of Array.isArray(schema['allOf']) ? schema['allOf'] : []) {
    const inner = headers(part);
    inner.all.forEach((h) => all.add(h));
    inner.required.forEach((h) => required.add(h));
  }
  if (isRecord(schema['properties'])) Object.keys(schema['properties']).forEach((h) => all.add(h));
  for (const h of Array.isArray(schema['required']) ? schema['required'] : []) required.add(String(h));
  return { all, required };
}

let document: AsyncAPIDocumentInterface;

beforeAll(async () => {
  const parsed = await fromFile(new Parser(), findRepoFile('schemas/asyncapi.yaml')).parse();
  if (parsed.document === undefined) throw new Error('schemas/asyncapi.yaml does not parse');
  document = parsed.document;
});

const channel = (address: string) =>
  document
    .channels()
    .all()
    .find((c) => c.address() === address);

describe('the replay topic in schemas/asyncapi.yaml', () => {
  it('has the address KafkaTopics.replay builds, and a send operation', () => {
    const replay = channel(REPLAY_CHANNEL);
    expect(replay).toBeDefined();
    expect(replay!.parameters().has('consumer')).toBe(true);
    expect(REPLAY_CHANNEL.replace('{consumer}', 'so-51')).toBe(new KafkaTopics().replay('so-51'));
    const sends = document
      .operations()
      .all()
      .filter(
        (op) =>
          op.action() === 'send' &&
          op
            .channels()
            .all()
            .some((c) => c.address() === REPLAY_CHANNEL),
      );
    expect(sends).toHaveLength(1);
  });

  it("documents the province topics' headers plus the replay marker, required", () => {
    const [replayed] = channel(REPLAY_CHANNEL)!.messages().all();
    const live = headers(channel(PROVINCE_CHANNEL)!.messages().all()[0]!.headers()?.json());
    const marked = headers(replayed!.headers()?.json());
    expect(marked.required).toContain(LGSP_REPLAY_HEADER);
    expect(LGSP_REPLAY_HEADER).toBe('lgsp_replay');
    for (const h of live.all) expect([h, marked.all.has(h)]).toEqual([h, true]);
    for (const h of live.required) expect([h, marked.required.has(h)]).toEqual([h, true]);
  });
});
