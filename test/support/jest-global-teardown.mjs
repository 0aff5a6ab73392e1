// Jest global teardown of the integration and e2e projects: stops the broker that the global setup
// started (a broker found at KAFKA_BROKERS, or one left running by an earlier run, stays up), and
// removes the data dirs of dedicated brokers whose test workers are gone.
import { sweepDedicatedKafka } from './kafka.ts';

export default async function globalTeardown() {
  // Tests that ran in band ran in this process: they are over too.
  await sweepDedicatedKafka({ finishedOwner: process.pid });
  const broker = globalThis.__lgspKafka;
  if (!broker) return;
  globalThis.__lgspKafka = undefined;
  if (broker.startedHere) await broker.stop();
}
