import { CheckpointSubscriber, SqlCheckpointStore } from '#lgsp/checkpoints';
import type { EventStore } from '#lgsp/event-store';
import { PostgresEventStore } from '#lgsp/event-store/postgres';
import { chainEvent } from '#lgsp/event-store/testing';
import { PostgresDatabase } from '#lgsp/storage/postgres';
import { POSTGRES_URL, dropSchema, queryIn, schemaName } from '../../../test/support/postgres.js';
import { runCli } from './cli.js';
import type { CliIo } from './io.js';

function io() {
  const out = { stdout: '', stderr: '' };
  const cli: CliIo = {
    env: {},
    stdout: { write: (t: string) => (out.stdout += t) },
    stderr: { write: (t: string) => (out.stderr += t) },
    interrupt: new AbortController().signal,
    readFile: () => '',
  };
  return { cli, out };
}

/** Signs checkpoints at 10, 20 and 30 of a 35-event log, as the hub's subscriber does. */
async function signed(events: EventStore, store: SqlCheckpointStore): Promise<void> {
  const subscriber = new CheckpointSubscriber({ store, events, settings: { every: 10, everySeconds: 3600 } });
  await events.append(Array.from({ length: 35 }, (_, n) => chainEvent(n)));
  await subscriber.handle(await events.readAll({ limit: 100 }));
}

describe('lgsp verify against the checkpoints kept in a PostgreSQL schema', () => {
  const schema = schemaName('verify_checkpoints');
  let events: PostgresEventStore;

  beforeAll(async () => {
    events = await PostgresEventStore.open({ connectionString: POSTGRES_URL, schema, poolSize: 2 });
    await signed(events, await SqlCheckpointStore.open(PostgresDatabase.over(events.database, schema)));
  });

  afterAll(async () => {
    await events.close();
    await dropSchema(schema);
  });

  it('reads them read-only beside the events and finds them matching', async () => {
    const { cli, out } = io();
    expect(await runCli(['verify', '--store', POSTGRES_URL, '--schema', schema], cli)).toBe(0);
    expect(out.stdout).toMatch(
      /^chain holds: 35 events, head hash [0-9a-f]{64}\ncheckpoints match: 3 \(kept in the store\), key ed25519:[0-9a-f]{32}, the last at position 30 signed /,
    );
  });

  it('names the first checkpoint changed in the table (exit 7)', async () => {
    await queryIn(
      schema,
      `UPDATE signed_checkpoints SET signed_at = '2020-01-01T00:00:00.000Z' WHERE position = 20`,
    );
    const { cli, out } = io();
    expect(await runCli(['verify', '--store', POSTGRES_URL, '--schema', schema, '--json'], cli)).toBe(7);
    expect(JSON.parse(out.stdout)).toMatchObject({
      ok: false,
      events: 35,
      checkpoints: {
        from: 'kept in the store',
        checked: 1,
        mismatch: { position: 20, kind: 'signature', signedAt: '2020-01-01T00:00:00.000Z' },
      },
    });
  });
});
