import type { PendingItem, PendingWorkStore } from '#lgsp/connectors';
import type { RootLogger as Logger } from '#lgsp/observability';
import { isErasedCopy, type WorkingCopies } from '#lgsp/privacy';

/**
 * The connectors' follow-up work with its payloads sealed as working copies of their dossiers (a
 * registration's persons and request, a payment's receipt with the payer's name): stored as one sealed
 * string, read back in clear while the dossier's copy key exists.
 *
 * Once a person of the dossier was erased the payload reads `[erased]`: nothing can be done with it any
 * more, so `due` completes such items (with a log line naming the target and dossier only) instead of
 * handing them to a poller.
 */
export class SealedPendingWork implements PendingWorkStore {
  constructor(
    private readonly inner: PendingWorkStore,
    private readonly copies: WorkingCopies,
    private readonly logger: Logger,
  ) {}

  async schedule(item: Omit<PendingItem, 'attempts'> & { attempts?: number }): Promise<boolean> {
    return this.inner.schedule({ ...item, payload: await this.copies.seal(item.dossier, item.payload) });
  }

  async due(target: string, now: number, limit: number): Promise<PendingItem[]> {
    const items = await this.reveal(await this.inner.due(target, now, limit));
    const live: PendingItem[] = [];
    for (const item of items) {
      if (!isErasedCopy(item.payload)) {
        live.push(item);
        continue;
      }
      await this.inner.complete(item.target, item.key);
      this.logger.warn(
        { target: item.target, dossier: item.dossier, attempts: item.attempts },
        'pending work dropped: a person of the dossier was erased',
      );
    }
    return live;
  }

  async reschedule(
    target: string,
    key: string,
    dueAt: number,
    attempts: number,
    payload?: unknown,
  ): Promise<void> {
    if (payload === undefined) return this.inner.reschedule(target, key, dueAt, attempts);
    const item = await this.inner.get(target, key);
    if (item === undefined) return;
    await this.inner.reschedule(target, key, dueAt, attempts, await this.copies.seal(item.dossier, payload));
  }

  complete(target: string, key: string): Promise<void> {
    return this.inner.complete(target, key);
  }

  async get(target: string, key: string): Promise<PendingItem | undefined> {
    const item = await this.inner.get(target, key);
    return item === undefined ? undefined : (await this.reveal([item]))[0];
  }

  count(target: string): Promise<number> {
    return this.inner.count(target);
  }

  private async reveal(items: readonly PendingItem[]): Promise<PendingItem[]> {
    const payloads = await this.copies.reveal(items.map((i) => i.payload));
    return items.map((item, i) => ({ ...item, payload: payloads[i] }));
  }
}
