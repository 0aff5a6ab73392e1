import { NationalPortalSimulator } from '#lgsp/simulators';
import { PortalClient } from './portal-client.js';

type PortalClientOptions = ConstructorParameters<typeof PortalClient>[0];

/**
 * Test support: a portal simulator started for the suite, reset before each test, whose
 * clock can be moved ahead (`skew`), and a client logged in to it.
 */
export const withPortalSimulator = () => {
  let skewMs = 0;
  let url = '';
  let sim: NationalPortalSimulator | undefined;
  const portal = {
    get sim(): NationalPortalSimulator {
      if (sim === undefined) throw new Error('the portal simulator is not started');
      return sim;
    },
    /** Moves the simulator's clock `ms` ahead of the wall clock. */
    skew(ms: number): void {
      skewMs = ms;
    },
    client: (overrides: Partial<PortalClientOptions> = {}) =>
      new PortalClient({ baseUrl: url, username: 'lgsp', password: 'lgsp', timeoutMs: 1000, ...overrides }),
  };
  beforeAll(async () => {
    sim = new NationalPortalSimulator({ sessionTtlMs: 60_000, clock: { now: () => Date.now() + skewMs } });
    ({ url } = await sim.start());
  });
  afterAll(() => sim?.stop());
  beforeEach(() => {
    portal.sim.reset();
    skewMs = 0;
  });
  return portal;
};
