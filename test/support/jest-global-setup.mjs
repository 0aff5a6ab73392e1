// Jest global setup of the integration and e2e projects: makes sure a Kafka broker is there for the
// whole run and hands its address to the test workers in KAFKA_BROKERS. Plain JavaScript loaded by
// Node itself; it imports kafka.ts through Node's type stripping (kafka.ts uses only erasable syntax
// and Node built-ins).
import { sharedKafka, sweepDedicatedKafka } from './kafka.ts';

export default async function globalSetup(_globalConfig, projectConfig) {
  // Both projects name this file; when one run selects both, the first call does the work.
  if (globalThis.__lgspKafka) return;
  try {
    await sweepDedicatedKafka(); // left over by an earlier run that crashed
    const broker = await sharedKafka();
    process.env.KAFKA_BROKERS = broker.brokers.join(',');
    globalThis.__lgspKafka = broker;
    process.stderr.write(
      `[kafka] ${projectConfig?.displayName?.name ?? 'tests'}: KAFKA_BROKERS=${process.env.KAFKA_BROKERS}` +
        (broker.startedHere ? ' (started for this run)\n' : '\n'),
    );
  } catch (error) {
    // CI never skips: no broker fails the run. On a developer's machine the tests that need Kafka
    // fail one by one with the same message, and the others still run.
    if (process.env.CI === 'true') throw error;
    process.stderr.write(
      `[kafka] no broker for this run: ${error instanceof Error ? error.message : error}\n`,
    );
  }
}
