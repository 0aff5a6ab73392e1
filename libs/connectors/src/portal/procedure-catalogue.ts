import { systemClock, type Clock } from '#lgsp/observability';
import { mappingError } from '../core/errors.js';
import type { PortalClient } from './portal-client.js';
import { PORTAL_TARGET, type PortalProcedure } from './portal-mapping.js';

/** What the catalogue reads: `LayThuTuc` of {@link PortalClient}. */
export type PortalProcedureSource = Pick<PortalClient, 'procedure'>;

export interface ProcedureCatalogueOptions {
  client: PortalProcedureSource;
  /** How long a procedure found is kept. @defaultValue 1 hour */
  ttlMs?: number;
  /** Procedures kept at most (the least recently used is forgotten first). @defaultValue 2000 */
  maxEntries?: number;
  /** @defaultValue the wall clock */
  clock?: Pick<Clock, 'now'>;
}

/** The national part of a procedure code: `1.000894` of the local `1.000894.000.00.00.H56`. */
const NATIONAL_CODE = /^\d{1,2}\.\d{6}/;

/**
 * The portal's procedure catalogue as the connector reads it (as OpenCPS does before each sync):
 * `LayThuTuc` per procedure code, cached (bounded, each entry for `ttlMs`), with concurrent
 * look-ups of one code sharing one call. A local code (the national code with an agency ID
 * appended) the portal does not know is looked up by its national part. A procedure the portal
 * does not know is not cached, so that a catalogue update is seen on the next try.
 */
export class ProcedureCatalogue {
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly clock: Pick<Clock, 'now'>;
  private readonly entries = new Map<string, { procedure: PortalProcedure; expiresAt: number }>();
  private readonly pending = new Map<string, Promise<PortalProcedure | undefined>>();

  constructor(private readonly options: ProcedureCatalogueOptions) {
    this.ttlMs = options.ttlMs ?? 3_600_000;
    this.maxEntries = options.maxEntries ?? 2000;
    this.clock = options.clock ?? systemClock;
    if (!(this.ttlMs > 0)) throw new RangeError(`ttlMs must be > 0, got ${this.ttlMs}`);
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new RangeError(`maxEntries must be an integer ≥ 1, got ${this.maxEntries}`);
    }
  }

  /** Procedures cached now. */
  get size(): number {
    return this.entries.size;
  }

  /** The cached procedure of `code`, without calling the portal (undefined when not cached). */
  peek(code: string): PortalProcedure | undefined {
    const entry = this.entries.get(code);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.clock.now()) {
      this.entries.delete(code);
      return undefined;
    }
    return entry.procedure;
  }

  /** The procedure of `code`, or undefined when the portal's catalogue does not have it. */
  async find(code: string, signal?: AbortSignal): Promise<PortalProcedure | undefined> {
    const entry = this.peek(code) === undefined ? undefined : this.entries.get(code);
    if (entry !== undefined) {
      // Most recently used last, so the least recently used is the first key (and forgotten first).
      this.entries.delete(code);
      this.entries.set(code, entry);
      return entry.procedure;
    }
    let pending = this.pending.get(code);
    if (pending === undefined) {
      pending = this.fetch(code, signal).finally(() => this.pending.delete(code));
      this.pending.set(code, pending);
    }
    return pending;
  }

  /**
   * The procedure of `code`.
   * @throws ConnectorError (`data`, `mapping`) when the portal's catalogue does not have it: the
   *   dossier parks with that reason.
   */
  async get(code: string, dossierCode: string, signal?: AbortSignal): Promise<PortalProcedure> {
    const procedure = await this.find(code, signal);
    if (procedure === undefined) {
      throw mappingError(
        PORTAL_TARGET,
        `dossier ${dossierCode}: procedure ${code} is not in the portal's catalogue (LayThuTuc), so TenTTHC, MaLinhVuc and TenLinhVuc cannot be filled`,
      );
    }
    return procedure;
  }

  private async fetch(code: string, signal?: AbortSignal): Promise<PortalProcedure | undefined> {
    let procedure = await this.options.client.procedure(code, signal);
    const national = NATIONAL_CODE.exec(code)?.[0];
    if (procedure === undefined && national !== undefined && national !== code) {
      procedure = await this.options.client.procedure(national, signal);
    }
    if (procedure === undefined) return undefined;
    const expiresAt = this.clock.now() + this.ttlMs;
    this.entries.delete(code);
    this.entries.set(code, { procedure, expiresAt });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return procedure;
  }
}
