import { systemClock, type Clock, type Logger } from '#lgsp/observability';
import type { ErasureService } from './erasure-service.js';

/**
 * Runs the retention ({@link ErasureService.retain}) every `everyMs`, from start until stop. A failed pass
 * is logged and the next one tries again; passes are idempotent, so replicas may each run the job.
 */
export class RetentionJob {
  private abort: AbortController | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly service: Pick<ErasureService, 'retain'>,
    private readonly everyMs: number,
    private readonly logger: Pick<Logger, 'info' | 'error'>,
    private readonly clock: Pick<Clock, 'sleep'> = systemClock,
  ) {}

  start(): void {
    if (this.running) return;
    const abort = new AbortController();
    this.abort = abort;
    this.running = this.loop(abort.signal);
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    await this.running;
    this.running = undefined;
  }

  private async loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const erased = await this.service.retain();
        if (erased > 0) this.logger.info({ erased }, 'retention: data subjects erased');
      } catch (err) {
        this.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'retention pass failed');
      }
      try {
        await this.clock.sleep(this.everyMs, signal);
      } catch {
        return;
      }
    }
  }
}
