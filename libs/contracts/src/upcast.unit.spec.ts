import { exampleEvent } from './examples.js';
import { EventSchemas, eventSchemaId } from './schemas.js';
import {
  DOWNCAST_LOSSES,
  EventConversionError,
  convertEvent,
  eventCatalogue,
  eventVersionsIssues,
  newestType,
  toNewestVersion,
  toVersions,
  typeVersion,
  withAllVersions,
} from './upcast.js';
import { EventValidator } from './validate.js';

const V1 = 'vn.gov.lgsp.dossier.submitted.v1';
const V2 = 'vn.gov.lgsp.dossier.submitted.v2';
const validator = new EventValidator();

describe('event versions', () => {
  it('know each type by family and version', () => {
    expect(typeVersion(V2)).toEqual({ family: 'dossier.submitted', version: 2 });
    expect(typeVersion('vn.gov.lgsp.payment.completed.v1')).toEqual({
      family: 'payment.completed',
      version: 1,
    });
    expect(typeVersion('vn.gov.lgsp.dossier.submitted.v3')).toBeUndefined();
    expect(newestType(V1)).toBe(V2);
    expect(newestType('other')).toBe('other');
    expect(withAllVersions([V1, 'vn.gov.lgsp.payment.failed.v1']).sort()).toEqual(
      [V1, V2, 'vn.gov.lgsp.payment.failed.v1'].sort(),
    );
  });

  it('upcast a v1 event into a valid v2 event, the applicant the one person with their ID', () => {
    const v1 = { ...exampleEvent(V1), dataschema: 'https://example.org/v1' };
    const v2 = toNewestVersion(v1);
    expect(v2.type).toBe(V2);
    expect(v2.dataschema).toBe(eventSchemaId(V2));
    expect(v2.data).toMatchObject({ dossierCode: v1.data.dossierCode, fees: v1.data.fees });
    expect((v2.data as unknown as Record<string, unknown>)['applicant']).toBeUndefined();
    expect((v2.data as unknown as Record<string, unknown>)['persons']).toEqual([
      {
        role: 'applicant',
        fullName: 'Nguyễn Thị Đào',
        documents: [{ kind: 'citizen-id', number: '051190000123' }],
      },
    ]);
    expect(validator.validate([v2], { single: true })).toEqual([]);
    // The stored event is left as it is.
    expect(v1.type).toBe(V1);
    expect(v1.data.applicant.idNumber).toBe('051190000123');
    const legacy = exampleEvent(V1);
    legacy.data.applicant = { fullName: 'Lê Văn Ba', idNumber: '123456789', phone: '0912345678' };
    expect((toNewestVersion(legacy).data as unknown as { persons: unknown[] }).persons).toEqual([
      {
        role: 'applicant',
        fullName: 'Lê Văn Ba',
        documents: [{ kind: 'legacy-id', number: '123456789' }],
        phone: '0912345678',
      },
    ]);
  });

  it('downcast a v2 event to v1, dropping what v1 cannot hold', () => {
    const v2 = exampleEvent(V2);
    const v1 = convertEvent(v2, 1);
    expect(v1.type).toBe(V1);
    expect(v1.dataschema).toBe(eventSchemaId(V1));
    expect((v1.data as unknown as Record<string, unknown>)['applicant']).toEqual({
      fullName: 'Nguyễn Thị Đào',
      idNumber: '051190000123',
      phone: '0912345678',
    });
    expect((v1.data as unknown as Record<string, unknown>)['persons']).toBeUndefined();
    expect(validator.validate([v1], { single: true })).toEqual([]);
    expect(DOWNCAST_LOSSES[V2]).toEqual(expect.arrayContaining([expect.stringContaining('co-applicant')]));
    // Round trip of a v1 event: the same data.
    const original = exampleEvent(V1);
    expect(convertEvent(toNewestVersion(original), 1).data).toEqual(original.data);
  });

  it('prefer a 12-digit citizen ID to a legacy one when downcasting', () => {
    const v2 = exampleEvent(V2);
    v2.data.persons[0]!.documents = [
      { kind: 'passport', number: 'B7654321' },
      { kind: 'legacy-id', number: '123456789' },
      { kind: 'citizen-id', number: '051190000999' },
    ];
    expect(
      (convertEvent(v2, 1).data as unknown as { applicant: { idNumber: string } }).applicant.idNumber,
    ).toBe('051190000999');
  });

  it('refuse to downcast an applicant with a passport only: v1 requires a citizen ID', () => {
    const v2 = exampleEvent(V2);
    v2.data.persons[0]!.documents = [{ kind: 'passport', number: 'B7654321' }];
    expect(validator.validate([v2], { single: true })).toEqual([]);
    expect(() => convertEvent(v2, 1)).toThrow(EventConversionError);
    expect(() => convertEvent(v2, 1)).toThrow(
      `event ${V2} cannot be read as ${V1}: the applicant has no citizen ID or legacy ID, which v1 requires`,
    );
  });

  it('downcast an applicant known by a VNeID account only: its number is the citizen ID', () => {
    const v2 = exampleEvent(V2);
    v2.data.persons[0]!.documents = [{ kind: 'vneid', number: '051190000777', level: 2 }];
    expect(
      (convertEvent(v2, 1).data as unknown as { applicant: { idNumber: string } }).applicant.idNumber,
    ).toBe('051190000777');
  });

  it('carry an erased value over as it is', () => {
    const v2 = exampleEvent(V2);
    (v2.data.persons[0] as unknown as Record<string, unknown>)['documents'] = '[erased]';
    v2.data.persons[0]!.fullName = '[erased]';
    expect((convertEvent(v2, 1).data as unknown as { applicant: unknown }).applicant).toEqual({
      fullName: '[erased]',
      idNumber: '[erased]',
      phone: '0912345678',
    });
  });

  it('give a clear error, not a crash, for a v1 event the upcaster cannot convert', () => {
    const broken = { type: V1, data: { dossierCode: 'X-1', applicant: 'Nguyễn Văn A' } };
    let error: unknown;
    try {
      toNewestVersion(broken);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EventConversionError);
    expect(error).toMatchObject({
      code: 'invalid',
      retriable: false,
      from: V1,
      to: V2,
      message: `event ${V1} cannot be read as ${V2}: applicant must be an object`,
    });
    // The message never quotes the data (it may be personal).
    expect((error as Error).message).not.toContain('Nguyễn');
    expect(() => toNewestVersion({ type: V1, data: null })).toThrow('data must be an object');
  });

  it('deliver each family at the version a consumer asked for, 1 by default', () => {
    const v1 = exampleEvent(V1);
    const v2 = exampleEvent(V2);
    const status = exampleEvent('vn.gov.lgsp.dossier.status-changed.v1');
    expect(toVersions(v1, undefined)).toBe(v1);
    expect(toVersions(v2, undefined).type).toBe(V1);
    expect(toVersions(v1, { 'dossier.submitted': 2 }).type).toBe(V2);
    expect(toVersions(v2, { 'dossier.submitted': 2 })).toBe(v2);
    expect(toVersions(status, { 'dossier.submitted': 2 })).toBe(status);
    expect(toVersions({ type: 'x.unknown', data: 1 }, {})).toEqual({ type: 'x.unknown', data: 1 });
  });

  it('check a choice of versions against the catalogue', () => {
    expect(eventVersionsIssues({ 'dossier.submitted': 2 }, '/eventVersions')).toEqual([]);
    expect(eventVersionsIssues({ 'dossier.submitted': 3, 'payment.completed': 1 }, '/v')).toEqual([
      { pointer: '/v/dossier.submitted', message: 'must be one of the versions 1, 2' },
      {
        pointer: '/v/payment.completed',
        message: 'is not an event with several versions (dossier.submitted)',
      },
    ]);
    expect(eventVersionsIssues({ 'dossier.submitted': '2' }, '/v')).toHaveLength(1);
    expect(eventVersionsIssues([], '/v')).toEqual([
      { pointer: '/v', message: 'must be an object: event name → version, e.g. {"dossier.submitted": 2}' },
    ]);
    expect(eventVersionsIssues({ 'a/b~c': 1 }, '/v')[0]!.pointer).toBe('/v/a~1b~0c');
  });

  it('list the catalogue with versions and what a downcast drops', () => {
    const catalogue = eventCatalogue(EventSchemas.shared(), (t) => t === 'vn.gov.lgsp.person.erased.v1');
    const submitted = catalogue.find((e) => e.name === 'dossier.submitted')!;
    expect(submitted.newest).toBe(2);
    expect(submitted.hubEmitted).toBe(false);
    expect(submitted.versions.map((v) => [v.version, v.type, v.title])).toEqual([
      [1, V1, 'DossierSubmitted'],
      [2, V2, 'DossierSubmittedV2'],
    ]);
    expect(submitted.versions[1]!.downcastDrops).toBe(DOWNCAST_LOSSES[V2]);
    expect(catalogue.find((e) => e.name === 'person.erased')?.hubEmitted).toBe(true);
  });
});

describe('dossier.submitted.v2 validation', () => {
  const issues = (mutate: (data: ReturnType<typeof exampleEvent<typeof V2>>['data']) => void) => {
    const event = exampleEvent(V2);
    mutate(event.data);
    return validator.validate([event], { single: true });
  };

  it('accepts the example', () => {
    expect(issues(() => undefined)).toEqual([]);
  });

  it('requires exactly one applicant', () => {
    expect(issues((d) => (d.persons[0]!.role = 'co-applicant'))).toEqual([
      { pointer: '/data/persons', message: 'must hold one person with role applicant' },
    ]);
    expect(issues((d) => (d.persons[1]!.role = 'applicant'))).toEqual([
      { pointer: '/data/persons/1/role', message: 'a dossier has one applicant: use co-applicant' },
    ]);
  });

  it('checks each document number by its kind, and the VNeID level only on VNeID', () => {
    const found = issues((d) => {
      d.persons[0]!.documents = [
        { kind: 'citizen-id', number: '12345' },
        { kind: 'legacy-id', number: '051190000123' },
        { kind: 'passport', number: 'B765432', level: 2 },
        { kind: 'vneid', number: '051190000123', level: 3 },
      ];
    });
    const pointers = found.map((i) => i.pointer);
    expect(pointers).toContain('/data/persons/0/documents/0/number');
    expect(pointers).toContain('/data/persons/0/documents/1/number');
    expect(pointers).toContain('/data/persons/0/documents/3/level');
    expect(found.some((i) => i.pointer === '/data/persons/0/documents/2')).toBe(true);
    expect(issues((d) => ((d.persons[1] as unknown as { documents: unknown[] }).documents = []))).toEqual([
      { pointer: '/data/persons/1/documents', message: 'must NOT have fewer than 1 items' },
    ]);
  });

  it('refuses the v1 applicant in v2, and persons in v1', () => {
    const v2 = exampleEvent(V2);
    (v2.data as unknown as Record<string, unknown>)['applicant'] = {
      fullName: 'A',
      idNumber: '051190000123',
    };
    expect(validator.validate([v2], { single: true })).toContainEqual({
      pointer: '/data/applicant',
      message: 'is not a known property',
    });
    const v1 = exampleEvent(V1);
    (v1.data as unknown as Record<string, unknown>)['persons'] = [];
    expect(validator.validate([v1], { single: true })).toContainEqual({
      pointer: '/data/persons',
      message: 'is not a known property',
    });
  });
});
