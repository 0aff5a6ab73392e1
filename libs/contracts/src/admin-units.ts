import { readFileSync } from 'node:fs';
import { findRepoFile } from './schemas.js';

/** A province or centrally-run city (2-digit national statistics office code). */
export interface Province {
  readonly code: string;
  readonly name: string;
  /** e.g. `tỉnh`, `thành phố trung ương`. */
  readonly type: string;
}

/** A commune-level unit (5-digit code) and the province it belongs to. */
export interface Commune {
  readonly code: string;
  readonly name: string;
  /** `xã`, `phường` or `đặc khu`. */
  readonly type: string;
  readonly provinceCode: string;
}

/** The file format of the administrative-unit list (as in `reference/admin-units-sample.json`). */
export interface AdminUnitsJson {
  source: string;
  provinces: {
    code: string;
    name: string;
    type: string;
    communes: { code: string; name: string; type: string }[];
  }[];
}

/** Path of the sample list shipped with the repository, relative to the repository root. */
export const ADMIN_UNITS_SAMPLE_FILE = 'reference/admin-units-sample.json';

const PROVINCE_CODE = /^[0-9]{2}$/;
const COMMUNE_CODE = /^[0-9]{5}$/;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const describe = (value: unknown): string =>
  value === undefined ? 'nothing' : Array.isArray(value) ? 'an array' : JSON.stringify(value);

function text(obj: Record<string, unknown>, key: string, path: string): string {
  const value = obj[key];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error(`admin units: ${path}.${key} must be a non-empty string (got ${describe(value)})`);
  }
  return value.normalize('NFC');
}

function code(obj: Record<string, unknown>, pattern: RegExp, digits: number, path: string): string {
  const value = obj['code'];
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new Error(
      `admin units: ${path}.code must be a string of ${digits} digits (got ${describe(value)})`,
    );
  }
  return value;
}

/**
 * The provinces and communes of the two-tier administration (national statistics office codes), for
 * checking that a commune code exists and belongs to a province. Load the official list with
 * {@link AdminUnits.load}; {@link AdminUnits.sample} is a small excerpt for tests and demos.
 */
export class AdminUnits {
  private constructor(
    /** Where the list comes from, as stated in its file. */
    readonly source: string,
    private readonly provinceByCode: ReadonlyMap<string, Province>,
    private readonly communeByCode: ReadonlyMap<string, Commune>,
    private readonly communesByProvince: ReadonlyMap<string, readonly Commune[]>,
  ) {}

  /**
   * Builds the list from its JSON form (`{source, provinces: [{code, name, type, communes: [{code, name, type}]}]}`).
   * Names are normalised to NFC.
   * @throws Error naming the first wrong value, e.g. `admin units: provinces[3].communes[7].code must be a string of 5 digits`.
   */
  static fromJson(obj: unknown): AdminUnits {
    if (!isRecord(obj)) throw new Error(`admin units: expected an object, got ${describe(obj)}`);
    const source = text(obj, 'source', '$');
    const provinces = obj['provinces'];
    if (!Array.isArray(provinces) || provinces.length === 0) {
      throw new Error('admin units: $.provinces must be a non-empty array');
    }
    const provinceByCode = new Map<string, Province>();
    const communeByCode = new Map<string, Commune>();
    const communesByProvince = new Map<string, readonly Commune[]>();
    provinces.forEach((p: unknown, i) => {
      const path = `$.provinces[${i}]`;
      if (!isRecord(p)) throw new Error(`admin units: ${path} must be an object`);
      const provinceCode = code(p, PROVINCE_CODE, 2, path);
      if (provinceByCode.has(provinceCode)) {
        throw new Error(`admin units: ${path}.code ${provinceCode} appears twice`);
      }
      provinceByCode.set(
        provinceCode,
        Object.freeze({ code: provinceCode, name: text(p, 'name', path), type: text(p, 'type', path) }),
      );
      const communes = p['communes'];
      if (!Array.isArray(communes)) throw new Error(`admin units: ${path}.communes must be an array`);
      const list: Commune[] = [];
      communes.forEach((c: unknown, j) => {
        const communePath = `${path}.communes[${j}]`;
        if (!isRecord(c)) throw new Error(`admin units: ${communePath} must be an object`);
        const communeCode = code(c, COMMUNE_CODE, 5, communePath);
        const existing = communeByCode.get(communeCode);
        if (existing !== undefined) {
          throw new Error(
            `admin units: ${communePath}.code ${communeCode} appears twice (also in province ${existing.provinceCode})`,
          );
        }
        const commune = Object.freeze({
          code: communeCode,
          name: text(c, 'name', communePath),
          type: text(c, 'type', communePath),
          provinceCode,
        });
        communeByCode.set(communeCode, commune);
        list.push(commune);
      });
      communesByProvince.set(provinceCode, Object.freeze(list));
    });
    return new AdminUnits(source, provinceByCode, communeByCode, communesByProvince);
  }

  /** Reads a list in the JSON form of {@link AdminUnits.fromJson} from a file. */
  static load(file: string): AdminUnits {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (cause) {
      throw new Error(`admin units: cannot read ${file}: ${(cause as Error).message}`, { cause });
    }
    return AdminUnits.fromJson(parsed);
  }

  /** The small sample shipped in `reference/admin-units-sample.json` (six provinces, a few communes each). */
  static sample(): AdminUnits {
    return AdminUnits.load(findRepoFile(ADMIN_UNITS_SAMPLE_FILE));
  }

  get provinceCount(): number {
    return this.provinceByCode.size;
  }

  get communeCount(): number {
    return this.communeByCode.size;
  }

  hasProvince(code: string): boolean {
    return this.provinceByCode.has(code);
  }

  province(code: string): Province | undefined {
    return this.provinceByCode.get(code);
  }

  commune(code: string): Commune | undefined {
    return this.communeByCode.get(code);
  }

  /** The code of the province a commune belongs to, or `undefined` for an unknown commune. */
  provinceOfCommune(communeCode: string): string | undefined {
    return this.communeByCode.get(communeCode)?.provinceCode;
  }

  /** Every province, in the order of the source list. */
  provinces(): readonly Province[] {
    return [...this.provinceByCode.values()];
  }

  /** The communes of a province in the order of the source list; empty for an unknown province. */
  communesOf(provinceCode: string): readonly Commune[] {
    return this.communesByProvince.get(provinceCode) ?? [];
  }
}
