import { pathToFileURL } from 'node:url';
import type { EventToAppend } from '#lgsp/event-store';
import { COMMUNE, PROVINCE } from '../support/events.js';

/** An event of `test/support/events` (a dossier of the test commune) as the store's append takes it. */
export function appendable(e: Record<string, unknown>): EventToAppend {
  const data = e.data as { dossierCode: string };
  return {
    stream: `dossier-${data.dossierCode}`,
    expectedVersion: 'any',
    id: String(e.id),
    source: String(e.source),
    type: String(e.type),
    time: String(e.time),
    data: e.data,
    extensions: {},
    provinceCode: PROVINCE,
    communeCode: COMMUNE,
  };
}

/**
 * Runs `bench` when the module at `moduleUrl` is the process's entry point (not imported by
 * `run.ts`), printing its figures as one JSON line; a failure exits 1.
 */
export function runIfMain(moduleUrl: string, bench: () => Promise<unknown>): void {
  if (process.argv[1] === undefined || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  bench()
    .then((figures) => console.log(`\n${JSON.stringify(figures)}`))
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}
