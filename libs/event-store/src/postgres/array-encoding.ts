import type { NewRow } from './group-decision.js';
import { INSERT_COLUMNS } from './sql.js';

/**
 * The INSERT's parameters (see INSERT_COLUMNS): the arrays in PostgreSQL's binary array format (a
 * Buffer parameter is sent as binary, so the server copies each element instead of parsing a quoted
 * literal, and nothing is escaped here), then the shared columns' scalars.
 */
export function insertParams(rows: readonly NewRow[]): unknown[] {
  const arrays: Buffer[] = [];
  const scalars: (string | null)[] = [];
  for (const column of INSERT_COLUMNS) {
    const value = column.value as (r: NewRow) => string | undefined;
    if (column.type === 'bigint') {
      arrays.push(int8Array(rows, column.value as (r: NewRow) => number));
    } else if (column.shared && rows.every((r) => value(r) === value(rows[0]!))) {
      arrays.push(EMPTY_TEXT_ARRAY);
      scalars.push(value(rows[0]!) ?? null);
    } else {
      arrays.push(textArray(rows, value));
      if (column.shared) scalars.push(null);
    }
  }
  return [...arrays, ...scalars];
}

const TEXT_OID = 25;
const INT8_OID = 20;
/** ndim, has-nulls flag, element type, then length and lower bound of the one dimension. */
const ARRAY_HEADER_BYTES = 20;
/** ndim 0, no nulls, text. */
const EMPTY_TEXT_ARRAY = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, TEXT_OID]);

function arrayHeader(buffer: Buffer, hasNulls: boolean, elementType: number, length: number): void {
  buffer.writeInt32BE(1, 0);
  buffer.writeInt32BE(hasNulls ? 1 : 0, 4);
  buffer.writeInt32BE(elementType, 8);
  buffer.writeInt32BE(length, 12);
  buffer.writeInt32BE(1, 16);
}

/** A one-dimensional text[] in binary format: each element is its byte length (-1 for NULL) and its UTF-8 bytes. */
function textArray(rows: readonly NewRow[], value: (r: NewRow) => string | undefined): Buffer {
  // The exact size: over-allocating costs more (in garbage collection) than measuring each string.
  let size = ARRAY_HEADER_BYTES;
  for (const r of rows) {
    const v = value(r);
    size += 4 + (v === undefined ? 0 : Buffer.byteLength(v));
  }
  const buffer = Buffer.allocUnsafe(size);
  let offset = ARRAY_HEADER_BYTES;
  let hasNulls = false;
  for (const r of rows) {
    const v = value(r);
    if (v === undefined) {
      hasNulls = true;
      offset = buffer.writeInt32BE(-1, offset);
    } else {
      const length = buffer.write(v, offset + 4);
      buffer.writeInt32BE(length, offset);
      offset += 4 + length;
    }
  }
  arrayHeader(buffer, hasNulls, TEXT_OID, rows.length);
  return buffer;
}

/** A one-dimensional bigint[] in binary format (values are safe integers). */
function int8Array(rows: readonly NewRow[], value: (r: NewRow) => number): Buffer {
  const buffer = Buffer.allocUnsafe(ARRAY_HEADER_BYTES + rows.length * 12);
  let offset = ARRAY_HEADER_BYTES;
  for (const r of rows) {
    const v = value(r);
    offset = buffer.writeInt32BE(8, offset);
    offset = buffer.writeUInt32BE(Math.floor(v / 2 ** 32), offset);
    offset = buffer.writeUInt32BE(v >>> 0, offset);
  }
  arrayHeader(buffer, false, INT8_OID, rows.length);
  return buffer;
}
