import { kafkajsRequestQueue, mendRequestQueue } from './request-queue.js';

/** kafkajs's RequestQueue as far as these tests drive it. */
interface Queue {
  pending: unknown[];
  throttledUntil: number;
  push(request: {
    entry: {
      correlationId: number;
      apiKey: number;
      apiName: string;
      apiVersion: number;
      resolve: () => void;
      reject: (err: unknown) => void;
    };
    expectResponse: boolean;
    sendRequest: () => void;
  }): void;
  checkPendingRequests(): void;
  destroy(): void;
}

const silent = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** A queue of the class the mend patches, counting its checks of the pending requests. */
function queue(): { q: Queue; checks: () => number } {
  const RequestQueue = kafkajsRequestQueue() as unknown as new (options: object) => Queue;
  const q = new RequestQueue({
    maxInFlightRequests: null,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'test',
    broker: 'localhost:9092',
    logger: silent,
  });
  let checks = 0;
  const check = q.checkPendingRequests.bind(q);
  q.checkPendingRequests = () => {
    checks += 1;
    check();
  };
  return { q, checks: () => checks };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("kafkajs's request queue, mended", () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  const queues: Queue[] = [];

  beforeAll(() => {
    expect(mendRequestQueue()).toBe(true);
    process.on('warning', onWarning);
  });
  afterAll(() => {
    process.off('warning', onWarning);
  });
  afterEach(() => {
    for (const q of queues.splice(0)) q.destroy();
  });

  it('is mended once however often it is asked', () => {
    expect(mendRequestQueue()).toBe(true);
    expect(mendRequestQueue()).toBe(true);
  });

  it('schedules nothing when no request is pending and no throttle is in effect (kafkajs#1751)', async () => {
    const { q, checks } = queue();
    queues.push(q);
    // What an answer does (fulfillRequest): check the pending requests. kafkajs 2.2.4 then set a timer
    // of -1 - Date.now() ms, run after 1 ms, whose check set the next: ~900 checks a second, forever.
    q.checkPendingRequests();
    await pause(100);
    expect(checks()).toBe(1);
    expect(warnings.map((w) => w.name)).not.toContain('TimeoutNegativeWarning');
  });

  it('still checks once when a client-side throttle ends, and no more after it', async () => {
    const { q, checks } = queue();
    queues.push(q);
    q.throttledUntil = Date.now() + 30;
    q.checkPendingRequests();
    await pause(150);
    expect(checks()).toBe(2);
  });

  it('still sends a request held by a throttle once the throttle ends', async () => {
    const { q } = queue();
    queues.push(q);
    q.throttledUntil = Date.now() + 30;
    let sent = false;
    let resolved = false;
    q.push({
      entry: {
        correlationId: 1,
        apiKey: 18,
        apiName: 'ApiVersions',
        apiVersion: 2,
        resolve: () => {
          resolved = true;
        },
        reject: () => undefined,
      },
      expectResponse: false,
      sendRequest: () => {
        sent = true;
      },
    });
    expect(q.pending).toHaveLength(1);
    expect(sent).toBe(false);
    await pause(150);
    expect(sent).toBe(true);
    // A request that expects no answer is complete once sent.
    expect(resolved).toBe(true);
    expect(q.pending).toHaveLength(0);
  });
});
