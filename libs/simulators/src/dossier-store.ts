import { array, record, requiredText } from './fields.js';
import type { SimResponse } from './http.js';

/** How a simulator names things in `POST /_sim/tamper` and answers it. */
export interface TamperWire<D> {
  /** The dossier code field of a stored dossier (`ma_ho_so`, `MaHoSo`). */
  codeField: string;
  /** Stores a dossier that nobody synchronised (`{extra: dossier}`). */
  storeExtra: (code: string, dossier: D) => void;
  /** The success answer, with the dossier as it now stands when there is one. */
  ok: (dossier?: object) => SimResponse;
  /** The answer for a dossier the simulator does not hold. */
  notFound: (code: string) => SimResponse;
}

/**
 * The dossiers a sync-target simulator holds, in creation order (exports page over it by
 * index), each with the progress records it was sent under `progressField`.
 */
export class DossierStore<D extends object, P, K extends string> {
  private readonly dossiers = new Map<string, D>();
  private order: string[] = [];
  private readonly progress = new Map<string, P[]>();

  constructor(private readonly progressField: K) {}

  clear(): void {
    this.dossiers.clear();
    this.order = [];
    this.progress.clear();
  }

  has(code: string): boolean {
    return this.dossiers.has(code);
  }

  get(code: string): D | undefined {
    return this.dossiers.get(code);
  }

  /** Stores a dossier, appending its code to the creation order when it is new. */
  put(code: string, dossier: D): void {
    if (!this.dossiers.has(code)) this.order.push(code);
    this.dossiers.set(code, dossier);
  }

  get size(): number {
    return this.order.length;
  }

  /** The dossiers `from` to `from + size` in creation order, with their progress. */
  page(from: number, size: number): (D & Record<K, P[]>)[] {
    return this.order.slice(from, from + size).map((c) => this.withProgress(c));
  }

  all(): (D & Record<K, P[]>)[] {
    return this.page(0, this.order.length);
  }

  /** Appends progress records to a dossier; a record it already holds is kept once. */
  addProgress(code: string, entries: readonly P[]): void {
    const list = this.progress.get(code) ?? [];
    for (const e of entries) {
      if (!list.some((p) => JSON.stringify(p) === JSON.stringify(e))) list.push(e);
    }
    this.progress.set(code, list);
  }

  withProgress(code: string): D & Record<K, P[]> {
    return { ...this.dossiers.get(code)!, [this.progressField]: this.progress.get(code) ?? [] } as D &
      Record<K, P[]>;
  }

  /**
   * `POST /_sim/tamper`: changes the stored state behind the hub's back, as a lost write, a damaged
   * record or another writer would, for reconciliation tests. `{dossier, delete: true}` forgets a
   * dossier and its progress; `{dossier, set: {field: value}}` overwrites fields as given, unchecked
   * (the progress field replaces the progress); `{extra: dossier}` stores a dossier (with optional
   * progress) that nobody synchronised.
   */
  tamper(body: Record<string, unknown>, wire: TamperWire<D>): SimResponse {
    const field = this.progressField;
    if (body.extra !== undefined) {
      const { [field]: progress, ...dossier } = record(body.extra, 'body.extra');
      const code = requiredText(dossier, wire.codeField, 'body.extra');
      wire.storeExtra(code, dossier as unknown as D);
      if (progress !== undefined)
        this.progress.set(code, array({ [field]: progress }, field, 'body.extra') as P[]);
      return wire.ok(this.withProgress(code));
    }
    const code = requiredText(body, 'dossier', 'body');
    const stored = this.dossiers.get(code);
    if (stored === undefined) return wire.notFound(code);
    if (body.delete === true) {
      this.dossiers.delete(code);
      this.progress.delete(code);
      this.order = this.order.filter((c) => c !== code);
      return wire.ok();
    }
    const { [field]: progress, ...fields } = record(body.set, 'body.set');
    Object.assign(stored, fields);
    if (progress !== undefined)
      this.progress.set(code, array({ [field]: progress }, field, 'body.set') as P[]);
    return wire.ok(this.withProgress(code));
  }
}
