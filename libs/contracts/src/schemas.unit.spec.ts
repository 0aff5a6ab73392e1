import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVENT_SCHEMA_NAMES } from './generated/events.js';
import { EVENT_TYPES, EventSchemas, eventSchemaId, findRepoFile, isEventType } from './schemas.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('findRepoFile', () => {
  it('finds a folder above the calling module, from any depth', () => {
    const found = findRepoFile('schemas/events');
    expect(existsSync(join(found, 'dossier.submitted', 'v1.json'))).toBe(true);
    expect(findRepoFile('schemas/events', join(here, 'generated'))).toBe(found);
    expect(findRepoFile('schemas/events', dirname(dirname(found)))).toBe(found);
  });

  it('throws when no folder above holds the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgsp-find-'));
    try {
      expect(() => findRepoFile('schemas/events-that-do-not-exist', dir)).toThrow(
        'schemas/events-that-do-not-exist not found',
      );
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('EventSchemas', () => {
  const schemas = EventSchemas.shared();

  it('compiles one validator per catalogue type, once', () => {
    expect(EventSchemas.shared()).toBe(schemas);
    expect(EVENT_TYPES).toHaveLength(Object.keys(EVENT_SCHEMA_NAMES).length);
    for (const type of EVENT_TYPES) {
      const validate = schemas.validator(type);
      expect(validate).toBeDefined();
      expect(schemas.validator(type)).toBe(validate);
      expect(schemas.schema(type)['$id']).toBe(eventSchemaId(type));
    }
    expect(schemas.validator('vn.gov.lgsp.unknown.v1')).toBeUndefined();
  });

  it('maps a type to its schema id', () => {
    expect(eventSchemaId('vn.gov.lgsp.dossier.status-changed.v1')).toBe(
      'https://schemas.lgsp-hub.vn/events/dossier.status-changed/v1.json',
    );
    expect(isEventType('vn.gov.lgsp.payment.completed.v1')).toBe(true);
    expect(isEventType('toString')).toBe(false);
    expect(isEventType(1)).toBe(false);
  });

  it('checks RFC 3339 date-times with an offset', () => {
    for (const ok of ['2025-07-01T08:30:00+07:00', '2025-07-01T01:30:00Z', '2024-02-29T23:59:59.5-03:30']) {
      expect(schemas.isDateTime(ok)).toBe(true);
    }
    for (const bad of [
      '2025-07-01T08:30:00',
      '2025-02-29T00:00:00Z',
      '2025-07-01T24:00:00Z',
      '20250701083000',
      0,
    ]) {
      expect(schemas.isDateTime(bad)).toBe(false);
    }
  });
});
