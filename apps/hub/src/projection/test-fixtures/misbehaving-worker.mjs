// Stand-ins for a projection worker that fails, chosen by workerData.test.behaviour.
import { existsSync, writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const { behaviour, marker } = workerData.test;

if (behaviour === 'fail-at-start') {
  throw new Error('cannot open the projection database');
} else if (behaviour === 'crash-once') {
  if (existsSync(marker)) {
    await import('./projection-worker.mjs');
  } else {
    writeFileSync(marker, '');
    parentPort.postMessage({ type: 'ready' });
    setTimeout(() => {
      throw new Error('boom');
    }, 50);
  }
} else if (behaviour === 'ignore-stop') {
  parentPort.on('message', () => undefined);
  parentPort.postMessage({ type: 'ready' });
}
