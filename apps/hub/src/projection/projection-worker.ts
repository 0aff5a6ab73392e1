// Entry of the projection worker thread: runs the dossier projection on its own connections, off the
// hub's main thread. Started and stopped by ProjectionThread (projection-thread.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { createLogger } from '#lgsp/observability';
import { DossierProjection, SqlDossierViewRepository } from '#lgsp/projections';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { Subscriptions } from '#lgsp/subscriptions';
import type { FromProjectionWorker, ProjectionWorkerData, ToProjectionWorker } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('projection-worker.js runs in a worker thread started by the hub');
const data = workerData as ProjectionWorkerData;
const post = (message: FromProjectionWorker): void => port.postMessage(message);
// Synchronous writes: the lines of a worker that dies are not lost with it.
const logger = createLogger({ level: data.logLevel, sync: true, format: data.logFormat ?? 'json' }).child({
  thread: 'projection',
});

const store = SqliteEventStore.open({ file: data.eventsFile, readOnly: true });
const db = SqliteDatabase.open(data.projectionsFile);
let stopping = false;

const subscriptions = new Subscriptions({
  store,
  logger,
  ...(data.pollIntervalMs === undefined ? {} : { pollIntervalMs: data.pollIntervalMs }),
  ...(data.retry === undefined ? {} : { retry: data.retry }),
  onStatus: (_name, status) => {
    post({ type: 'status', status });
    if (status.state === 'stopped' && !stopping) {
      // The runner's loop ended by itself (it logged why); the hub restarts the worker.
      process.exit(1);
    }
  },
});
const views = new SqlDossierViewRepository(db);
subscriptions.register(
  new DossierProjection(views, {
    batchSize: data.batchSize,
    logger,
    onUnreadable: (event) => post({ type: 'unreadable', eventType: event.type }),
  }),
);

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await subscriptions.stop();
  await store.close();
  await db.close();
  logger.info('projection worker stopped');
  process.exit(0);
}

port.on('message', (message: ToProjectionWorker) => {
  if (message.type === 'appended') {
    // A failed look is made up for by the runner's poll.
    if (!stopping) store.checkForAppends().catch(() => undefined);
  } else if (message.type === 'stop') {
    stop().catch((err: unknown) => {
      logger.error(
        { err: err instanceof Error ? err.message : String(err) },
        'projection worker stop failed',
      );
      process.exit(1);
    });
  }
});

await subscriptions.start();
// Ready once the views answer: the subscriber has read the same checkpoint (and said so) by then.
const checkpoint = await views.checkpoint();
logger.info(
  { eventsFile: data.eventsFile, projectionsFile: data.projectionsFile, checkpoint },
  'projection worker ready',
);
post({ type: 'ready' });
