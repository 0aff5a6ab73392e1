import {
  MismatchBatcher,
  communesOf,
  differences,
  judgesExtra,
  statusCategory,
  type FieldRules,
} from './compare.js';
import {
  NOT_ERASED_VALUE,
  type ExpectedDossier,
  type Mismatch,
  type ReconcileContext,
  type ReconciliationScope,
  type ReconciliationTarget,
  type TargetReconciler,
} from './model.js';

/** One page of what a reconciler read from a system. */
export interface ReadPage<R> {
  records: readonly R[];
  /** Records the system served for this page (calls, for a system without a list). @defaultValue records.length */
  scanned?: number;
}

/**
 * What one system supplies to {@link reconcilePages}: how to read it page by page, how to judge one
 * record it served, and what the log implies that no page showed. The rest (abort between pages,
 * progress, mismatch batches) is the same for every system.
 */
export interface PagedReconciliation<R> {
  target: ReconciliationTarget;
  /** Mismatches per yielded batch. */
  batchSize: number;
  /** The system's records, page by page; a page is read only once the previous one is judged. */
  pages(signal: AbortSignal | undefined): AsyncIterable<ReadPage<R>>;
  /** Adds the mismatches of one record; true when it counts as a compared dossier. */
  check(record: R, out: MismatchBatcher): boolean;
  /** After the last page: adds what the log implies and no page showed; the dossiers it judged. */
  remaining?(out: MismatchBatcher): number;
}

/**
 * The skeleton of every reconciler: list the system's records page by page, compare each with what
 * the log implies, report after each page the progress and the full batches of mismatches, then what
 * the system lacks, then the last batch.
 */
export async function* reconcilePages<R>(
  system: PagedReconciliation<R>,
  context: ReconcileContext,
): AsyncIterable<Mismatch[]> {
  const out = new MismatchBatcher(system.target, context.clock, system.batchSize);
  let scanned = 0;
  let compared = 0;
  const pages = system.pages(context.signal)[Symbol.asyncIterator]();
  for (;;) {
    context.signal?.throwIfAborted();
    const next = await pages.next();
    if (next.done === true) break;
    const page = next.value;
    for (const record of page.records) if (system.check(record, out)) compared++;
    scanned += page.scanned ?? page.records.length;
    context.scanned(scanned);
    context.compared(compared);
    yield* out.take();
  }
  compared += system.remaining?.(out) ?? 0;
  context.compared(compared);
  yield* out.take(true);
}

/** What one system supplies to {@link PagedReconciler}: its pages and how their records are judged. */
export type SystemReading<R> = Omit<PagedReconciliation<R>, 'target' | 'batchSize'>;

/**
 * A reconciler on the skeleton of {@link reconcilePages}: a system's room supplies its target and,
 * for each run, {@link read}.
 */
export abstract class PagedReconciler<R> implements TargetReconciler {
  abstract readonly target: ReconciliationTarget;
  private readonly batchSize: number;

  /** @param options.batchSize Mismatches per yielded batch. @defaultValue 500 */
  constructor(options: { batchSize?: number }) {
    this.batchSize = options.batchSize ?? 500;
  }

  reconcile(
    expected: ReadonlyMap<string, ExpectedDossier>,
    scope: ReconciliationScope,
    context: ReconcileContext,
  ): AsyncIterable<Mismatch[]> {
    const reading = this.read(expected, scope);
    return reconcilePages({ target: this.target, batchSize: this.batchSize, ...reading }, context);
  }

  /** How this run reads the system and judges what it serves against `expected`. */
  protected abstract read(
    expected: ReadonlyMap<string, ExpectedDossier>,
    scope: ReconciliationScope,
  ): SystemReading<R>;
}

/**
 * A {@link PagedReconciler} of a system that lists its records in pages of `options.pageSize`
 * (`defaultPageSize` when not given, never more than `maxPageSize`).
 */
export abstract class ListingReconciler<
  R,
  O extends { batchSize?: number; pageSize?: number },
> extends PagedReconciler<R> {
  protected readonly pageSize: number;

  constructor(
    protected readonly options: O,
    defaultPageSize = 5000,
    maxPageSize = Number.POSITIVE_INFINITY,
  ) {
    super(options);
    this.pageSize = Math.min(options.pageSize ?? defaultPageSize, maxPageSize);
  }
}

/**
 * A system that holds one record per dossier under the dossier's code (the national portal, a
 * one-stop-shop): the names of its key, unit and status fields, how its fields compare, and the
 * record the log implies for a dossier.
 */
export interface DossierRecords {
  code: string;
  unit: string;
  status: string;
  rules: FieldRules;
  /** The system's bookkeeping fields, not compared. */
  ignore?: readonly string[];
  /** The system's status names, when it writes names instead of codes. */
  statusNames?: Readonly<Record<number, string>>;
  /**
   * The record the log implies for a dossier: the connector's own mapping. Undefined, or a thrown
   * mapping error, when the log lacks what the connector needs to send it (it would not have).
   */
  expectedRecord(dossier: ExpectedDossier): Record<string, unknown> | undefined;
  /**
   * The fields of the expected record filled from personal values the hub erased. A system holding
   * another value there is `not-erased-in-target`, its value withheld. @defaultValue none
   */
  erasedFields?(dossier: ExpectedDossier): readonly string[];
}

/**
 * A {@link ListingReconciler} of a system of {@link DossierRecords}: its {@link listPages}, judged by
 * {@link dossierRecordChecks}.
 */
export abstract class DossierRecordsReconciler<
  O extends { batchSize?: number; pageSize?: number },
> extends ListingReconciler<Record<string, unknown>, O> {
  protected abstract readonly records: DossierRecords;

  /** The system's records, page by page. */
  protected abstract listPages(
    signal: AbortSignal | undefined,
  ): AsyncIterable<ReadPage<Record<string, unknown>>>;

  protected read(
    expected: ReadonlyMap<string, ExpectedDossier>,
    scope: ReconciliationScope,
  ): SystemReading<Record<string, unknown>> {
    return {
      pages: (signal) => this.listPages(signal),
      ...dossierRecordChecks(this.records, expected, scope),
    };
  }
}

/**
 * {@link PagedReconciliation.check} and `remaining` for a system of {@link DossierRecords}: a listed
 * record of a dossier of the log is compared field by field (a status the dossier had earlier is
 * `stale-status`), one the log does not imply is `unexpected-extra` where the scope judges extras
 * (see `judgesExtra`), and a record the log implies and no page showed is `missing-in-target`.
 */
export function dossierRecordChecks(
  system: DossierRecords,
  expected: ReadonlyMap<string, ExpectedDossier>,
  scope: ReconciliationScope,
): Pick<PagedReconciliation<Record<string, unknown>>, 'check' | 'remaining'> {
  const seen = new Set<string>();
  const communes = communesOf(expected);
  const summary = (code: string, status: unknown) => ({ [system.code]: code, [system.status]: status });
  const expectedRecord = (dossier: ExpectedDossier) => {
    try {
      return system.expectedRecord(dossier);
    } catch {
      return undefined;
    }
  };
  return {
    check(actual, out) {
      const code = String(actual[system.code]);
      const dossier = expected.get(code);
      if (dossier === undefined) {
        const unit = actual[system.unit] === undefined ? undefined : String(actual[system.unit]);
        if (judgesExtra(scope, code, unit, communes)) {
          out.add(code, '*', null, summary(code, actual[system.status] ?? null), 'unexpected-extra');
        }
        return false;
      }
      const record = expectedRecord(dossier);
      if (record === undefined) return false;
      seen.add(code);
      const erased = system.erasedFields?.(dossier) ?? [];
      for (const d of differences(record, actual, system.rules, system.ignore)) {
        if (erased.includes(d.field) && d.actual !== null) {
          out.add(code, d.field, d.expected, NOT_ERASED_VALUE, 'not-erased-in-target');
          continue;
        }
        const category =
          d.field === system.status ? statusCategory(dossier, d.actual, system.statusNames) : 'wrong-field';
        out.add(code, d.field, d.expected, d.actual, category);
      }
      return true;
    },
    remaining(out) {
      let judged = 0;
      for (const [code, dossier] of expected) {
        if (seen.has(code)) continue;
        const record = expectedRecord(dossier);
        if (record === undefined) continue;
        out.add(code, '*', summary(code, record[system.status]), null, 'missing-in-target');
        judged++;
      }
      return judged;
    },
  };
}
