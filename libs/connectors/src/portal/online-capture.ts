import { isDomainError, type AdminUnits, type CloudEvent } from '#lgsp/contracts';
import type { CheckpointStore } from '#lgsp/event-store';

import { silentLogger, type Logger } from '#lgsp/observability';
import { observeCall, type CallListener } from '../core/call-listener.js';
import { systemClock, type Clock } from '../core/clock.js';
import { isConnectorError } from '../core/errors.js';
import type { EventSink } from '../core/event-sink.js';
import { toVnRfc3339 } from '../core/vn-time.js';
import type { PortalOnlineSubmission } from './external/portal-online-wire.js';
import { toSubmittedEvent, type RefusalReason } from './online-submission-mapping.js';
import type { PortalClient } from './portal-client.js';
import { PORTAL_TARGET } from './portal-mapping.js';

/** The checkpoint under which the capture keeps its cursor: the feed position of the last submission handled. */
export const PORTAL_ONLINE_CHECKPOINT = 'capture.portal-online';

/**
 * Where the cursor is kept. The event store's `checkpoints` fit as they are; the cursor then lives in
 * the same database as the events it guards.
 */
export type CursorStore = Pick<CheckpointStore, 'load' | 'save'>;

export interface OnlineSubmissionCaptureOptions {
  client: Pick<PortalClient, 'listOnlineSubmissions'>;
  sink: EventSink;
  cursor: CursorStore;
  /** To find the province of a submission's commune. */
  adminUnits: Pick<AdminUnits, 'provinceOfCommune'>;
  /** Pause between rounds, and after a failed one (longer when the portal's Retry-After says so). @defaultValue 5000 */
  pollIntervalMs?: number;
  /** Submissions asked for per call (the portal takes 1–1000). @defaultValue 100 */
  pageSize?: number;
  /** Refused submissions kept in memory for {@link OnlineSubmissionCapture.refused}. @defaultValue 1000 */
  keepRefused?: number;
  /** @defaultValue {@link PORTAL_ONLINE_CHECKPOINT} */
  checkpoint?: string;
  clock?: Clock;
  logger?: Logger;
  /** Told of each `LayDanhSachHoSoTrucTuyen` (target `portal`, operation `capture`), for metrics. */
  called?: CallListener;
}

/** A submission the hub could not capture. No personal data: it is logged and shown to operators. */
export interface RefusedSubmission {
  /** Its position in the portal's feed. */
  position: number;
  /** Its `MaHoSo`, when it has a usable one. */
  dossierCode?: string;
  reason: RefusalReason;
  detail: string;
  /** When the hub refused it, RFC 3339. */
  refusedAt: string;
}

/** What one round did. */
export interface CaptureOutcome {
  /** Submissions read from the feed. */
  fetched: number;
  /** Events appended. */
  appended: number;
  /** Submissions already captured (a page read again after a crash). */
  duplicates: number;
  /** Submissions refused in this round, in feed order. */
  refused: RefusedSubmission[];
}

/**
 * Captures the dossiers citizens submit on the national portal (`LayDanhSachHoSoTrucTuyen`) as
 * `vn.gov.lgsp.dossier.submitted.v1` events through the hub's ingest.
 *
 * A round reads the feed page by page from the cursor. Each page's events are appended, and only
 * then is the cursor saved: a crash in between reads the page again, and the events' ids (derived
 * from `MaHoSo`) make the ingest store nothing twice. A portal or store failure ends the round with
 * the cursor where it was, so the next round retries; nothing is lost.
 *
 * A submission that cannot become a valid event (see {@link toSubmittedEvent}, and whatever else the
 * ingest refuses as `invalid`) is refused: logged at warn with its `MaHoSo` only, counted, and
 * passed by, so that one bad submission never blocks the feed. The refused are returned by the
 * round and the last {@link OnlineSubmissionCaptureOptions.keepRefused} kept for
 * {@link OnlineSubmissionCapture.refused}; that memory does not survive a restart (the log does).
 */
export class OnlineSubmissionCapture {
  readonly checkpoint: string;
  private readonly pollIntervalMs: number;
  private readonly pageSize: number;
  private readonly keepRefused: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly refusals: RefusedSubmission[] = [];
  /** The round in progress or the last one; rounds never overlap. */
  private round: Promise<unknown> = Promise.resolve();
  private loop: Promise<void> | undefined;
  private abort: AbortController | undefined;

  constructor(private readonly options: OnlineSubmissionCaptureOptions) {
    this.checkpoint = options.checkpoint ?? PORTAL_ONLINE_CHECKPOINT;
    this.pollIntervalMs = options.pollIntervalMs ?? 5000;
    this.pageSize = options.pageSize ?? 100;
    if (!Number.isInteger(this.pageSize) || this.pageSize < 1 || this.pageSize > 1000) {
      throw new RangeError(`pageSize must be an integer from 1 to 1000, got ${this.pageSize}`);
    }
    this.keepRefused = options.keepRefused ?? 1000;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * Reads the feed from the cursor to its end, appending each page and then saving the cursor.
   * @throws the portal's ConnectorError, or the store's error (e.g. StoreUnavailableError), when the
   *   round stopped; the pages done before it stay done.
   */
  pollOnce(signal?: AbortSignal): Promise<CaptureOutcome> {
    const next = this.round.then(() => this.poll(signal));
    this.round = next.catch(() => undefined);
    return next;
  }

  /** The submissions this instance refused, the last `keepRefused` of them (one entry per position), oldest first. */
  refused(): readonly RefusedSubmission[] {
    return [...this.refusals];
  }

  /** Polls every `pollIntervalMs` until {@link stop}. A failed round is logged and retried. */
  start(): void {
    if (this.loop !== undefined) return;
    const abort = new AbortController();
    this.abort = abort;
    this.loop = this.run(abort.signal);
  }

  /** Stops polling: cancels the wait and the portal call in flight, and resolves once the round has ended. */
  async stop(): Promise<void> {
    const loop = this.loop;
    if (loop === undefined) return;
    this.abort?.abort(new Error('capture stopped'));
    await loop;
    this.loop = undefined;
    this.abort = undefined;
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let wait = this.pollIntervalMs;
      try {
        await this.pollOnce(signal);
      } catch (err) {
        if (signal.aborted) break;
        this.logFailure(err);
        if (isConnectorError(err) && err.retryAfterMs !== undefined) wait = Math.max(wait, err.retryAfterMs);
      }
      try {
        await this.clock.sleep(wait, signal);
      } catch {
        break;
      }
    }
  }

  private async poll(signal?: AbortSignal): Promise<CaptureOutcome> {
    const outcome: CaptureOutcome = { fetched: 0, appended: 0, duplicates: 0, refused: [] };
    let cursor = await this.options.cursor.load(this.checkpoint);
    for (;;) {
      signal?.throwIfAborted();
      const from = cursor;
      const { client } = this.options;
      const page = await observeCall(
        this.options.called,
        { target: PORTAL_TARGET, operation: 'capture' },
        this.clock,
        () => client.listOnlineSubmissions(from, this.pageSize, signal),
      );
      // Only what lies after the cursor, in feed order, whatever the portal sent back.
      const fresh = page.submissions.filter((s) => s.ViTri > cursor).sort((a, b) => a.ViTri - b.ViTri);
      const last = fresh.at(-1);
      if (last === undefined) break;
      outcome.fetched += fresh.length;
      await this.capture(fresh, outcome);
      await this.options.cursor.save(this.checkpoint, last.ViTri);
      cursor = last.ViTri;
      if (page.submissions.length < this.pageSize) break;
    }
    if (outcome.fetched > 0) {
      this.logger.info(
        {
          target: PORTAL_TARGET,
          position: cursor,
          fetched: outcome.fetched,
          appended: outcome.appended,
          duplicates: outcome.duplicates,
          refused: outcome.refused.length,
        },
        'portal online submissions captured',
      );
    }
    return outcome;
  }

  /** Maps and appends one page; refuses what cannot be captured. */
  private async capture(page: readonly PortalOnlineSubmission[], outcome: CaptureOutcome): Promise<void> {
    const accepted: { submission: PortalOnlineSubmission; event: CloudEvent }[] = [];
    const ids = new Set<string>();
    for (const submission of page) {
      const mapped = toSubmittedEvent(submission, this.options.adminUnits);
      if ('refusal' in mapped) {
        this.refuse(submission, mapped.refusal.reason, mapped.refusal.detail, outcome);
      } else if (ids.has(mapped.event.id)) {
        // The feed listed one dossier twice in a page: one event, the rest count as duplicates.
        outcome.duplicates++;
      } else {
        ids.add(mapped.event.id);
        accepted.push({ submission, event: mapped.event });
      }
    }
    if (accepted.length === 0) return;
    try {
      this.count(await this.options.sink.append(accepted.map((a) => a.event)), outcome);
    } catch (err) {
      if (!isInvalid(err)) throw err;
      // The batch is atomic: append one by one to keep the good ones and refuse the others.
      for (const { submission, event } of accepted) {
        try {
          this.count(await this.options.sink.append([event]), outcome);
        } catch (one) {
          if (!isInvalid(one)) throw one;
          this.refuse(submission, 'invalid', `the ingest refused it: ${issuesOf(one)}`, outcome);
        }
      }
    }
  }

  private count(results: readonly { duplicate: boolean }[], outcome: CaptureOutcome): void {
    for (const r of results) {
      if (r.duplicate) outcome.duplicates++;
      else outcome.appended++;
    }
  }

  private refuse(
    submission: PortalOnlineSubmission,
    reason: RefusalReason,
    detail: string,
    outcome: CaptureOutcome,
  ): void {
    const code = typeof submission.MaHoSo === 'string' ? submission.MaHoSo.trim() : '';
    const refused: RefusedSubmission = {
      position: submission.ViTri,
      ...(/^[0-9A-Za-z][0-9A-Za-z._-]{0,79}$/.test(code) ? { dossierCode: code } : {}),
      reason,
      detail,
      refusedAt: toVnRfc3339(this.clock.now()),
    };
    outcome.refused.push(refused);
    // A page read again after a failed cursor save refuses its submissions again: keep one entry each.
    const again = this.refusals.findIndex((r) => r.position === refused.position);
    if (again >= 0) this.refusals.splice(again, 1);
    this.refusals.push(refused);
    if (this.refusals.length > this.keepRefused)
      this.refusals.splice(0, this.refusals.length - this.keepRefused);
    this.logger.warn(
      { target: PORTAL_TARGET, dossier: refused.dossierCode, position: refused.position, reason, detail },
      'portal online submission refused',
    );
  }

  private logFailure(err: unknown): void {
    const retriable = (err as { retriable?: unknown } | null)?.retriable === true;
    this.logger.warn(
      {
        target: PORTAL_TARGET,
        checkpoint: this.checkpoint,
        error: err instanceof Error ? err.name : typeof err,
        ...(isConnectorError(err) || isDomainError(err) ? { code: err.code } : {}),
        retriable,
        message: err instanceof Error ? err.message : String(err),
      },
      'portal online capture round failed; the next round retries from the cursor',
    );
  }
}

const isInvalid = (err: unknown): boolean => isDomainError(err) && err.code === 'invalid';

/** The ingest's issues with their pointers inside the event (a batch index dropped); no values, only rules. */
function issuesOf(err: unknown): string {
  if (!isDomainError(err) || err.issues.length === 0) return isDomainError(err) ? err.message : 'invalid';
  return err.issues.map((i) => `${i.pointer.replace(/^\/\d+(?=\/|$)/, '') || '/'} ${i.message}`).join('; ');
}
