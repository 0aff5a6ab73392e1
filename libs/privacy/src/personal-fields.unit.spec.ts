import { EVENT_TYPES, EventSchemas } from '#lgsp/contracts';
import { PERSONAL_FIELDS, personsIn, surrogateSubject } from './index.js';

const SUBMITTED = 'vn.gov.lgsp.dossier.submitted.v1';
const REGISTERED = 'vn.gov.lgsp.civil-status.registered.v1';
const SUBMITTED_V2 = 'vn.gov.lgsp.dossier.submitted.v2';
const CODE = '000.00.51.H56-251123-0001';

/** `<type> <path.to.field>` of every property its event's schema marks with `x-personal-data`. */
function annotatedFields(): Set<string> {
  const out = new Set<string>();
  for (const type of EVENT_TYPES) {
    const root = EventSchemas.shared().schema(type) as Record<string, unknown>;
    const walk = (node: unknown, path: string[]): void => {
      if (typeof node !== 'object' || node === null) return;
      const schema = node as Record<string, unknown>;
      const ref = schema.$ref;
      if (typeof ref === 'string' && ref.startsWith('#/$defs/')) {
        walk((root.$defs as Record<string, unknown>)[ref.slice('#/$defs/'.length)], path);
      }
      for (const key of ['allOf', 'anyOf', 'oneOf'])
        if (Array.isArray(schema[key])) for (const s of schema[key] as unknown[]) walk(s, path);
      if (schema.items !== undefined) walk(schema.items, [...path, '[]']);
      const properties = schema.properties as Record<string, unknown> | undefined;
      for (const [name, prop] of Object.entries(properties ?? {})) {
        if ((prop as Record<string, unknown>)['x-personal-data'] === true)
          out.add(`${type} ${[...path, name].join('.')}`);
        walk(prop, [...path, name]);
      }
    };
    walk(root, []);
  }
  return out;
}

describe('PERSONAL_FIELDS', () => {
  it('are exactly the fields the event schemas mark with x-personal-data', () => {
    const declared = new Set(
      Object.entries(PERSONAL_FIELDS).flatMap(([type, persons]) =>
        persons.flatMap((p) => p.fields.map((f) => `${type} ${[...p.at, f].join('.')}`)),
      ),
    );
    expect([...annotatedFields()].sort()).toEqual([...declared].sort());
    expect(declared.size).toBe(28);
  });

  it('seal a summary under the applicant, whose ID is outside its object', () => {
    const data = {
      dossierCode: CODE,
      applicant: { fullName: 'Nguyễn Thị Hoà', idNumber: '051190001234' },
      summary: 'Đăng ký khai sinh của bà Nguyễn Thị Hoà',
    };
    const summary = personsIn(SUBMITTED, data).find((p) => p.spec.fields.includes('summary'));
    expect(summary).toMatchObject({ subjectId: '051190001234', id: '051190001234', holder: data });
    const noId = personsIn(SUBMITTED, { dossierCode: CODE, summary: 'x' });
    expect(noId.map((p) => p.subjectId)).toEqual([`dossier:${CODE}:applicant`]);
  });

  it('name an ID field among the fields of the same person', () => {
    for (const persons of Object.values(PERSONAL_FIELDS))
      for (const p of persons) if (p.idField !== undefined) expect(p.fields).toContain(p.idField);
  });
});

describe('personsIn', () => {
  const birth = {
    dossierCode: CODE,
    applicant: { fullName: 'Nguyễn Thị Hoà', idNumber: '051190001234', phone: '0912345678' },
    civilRegistration: {
      registrationType: 'birth',
      person: { fullName: 'Trần Minh Khang', dateOfBirth: '2025-11-20', sex: 'male' },
      placeOfBirth: 'Bình Sơn',
      mother: { fullName: 'Nguyễn Thị Hoà', idNumber: '051190001234' },
      father: { fullName: 'Trần Văn Dũng' },
    },
  };

  it('takes the citizen ID as the subject, and a surrogate of the dossier and role without one', () => {
    const found = personsIn(SUBMITTED, birth);
    expect(found.map((p) => [p.spec.role, p.subjectId])).toEqual([
      ['applicant', '051190001234'],
      ['person', surrogateSubject(CODE, 'person')],
      ['person', surrogateSubject(CODE, 'person')],
      ['mother', '051190001234'],
      ['father', `dossier:${CODE}:father`],
    ]);
    expect(found[0]!.holder).toBe(birth.applicant);
    expect(found[2]!.holder).toBe(birth.civilRegistration);
  });

  it('takes a surrogate for an ID that is not a citizen ID, or one already sealed', () => {
    const odd = {
      dossierCode: CODE,
      person: { fullName: 'X', dateOfBirth: '2000-01-01', idNumber: 'P1234567' },
    };
    expect(personsIn(REGISTERED, odd)[0]!.subjectId).toBe(`dossier:${CODE}:person`);
    const sealed = { dossierCode: CODE, applicant: { fullName: 'X', idNumber: 'lgsp:pd1:k:AAAA' } };
    expect(personsIn(SUBMITTED, sealed)[0]!.subjectId).toBe(`dossier:${CODE}:applicant`);
    expect(
      personsIn(REGISTERED, { dossierCode: CODE, person: { idNumber: '051190001234' } })[0]!.subjectId,
    ).toBe('051190001234');
  });

  it('finds every person of a v2 list, each under their citizen ID, else a surrogate of role and place', () => {
    const data = {
      dossierCode: CODE,
      summary: 'Đăng ký kết hôn của bà Nguyễn Thị Hoà',
      persons: [
        {
          role: 'applicant',
          fullName: 'Nguyễn Thị Hoà',
          documents: [
            { kind: 'passport', number: 'C1234567' },
            { kind: 'legacy-id', number: '123456789' },
            { kind: 'citizen-id', number: '051190001234' },
          ],
        },
        {
          role: 'co-applicant',
          fullName: 'Lê Văn Nam',
          documents: [{ kind: 'passport', number: 'C7654321' }],
        },
        {
          role: 'co-applicant',
          fullName: 'Phạm Thị Thu',
          documents: [{ kind: 'legacy-id', number: '987654321' }],
        },
        {
          role: 'co-applicant',
          fullName: 'Vũ Văn Tín',
          documents: [
            { kind: 'legacy-id', number: '987654322' },
            { kind: 'vneid', number: '051090007777', level: 2 },
          ],
        },
      ],
    };
    const found = personsIn(SUBMITTED_V2, data);
    expect(found.map((p) => [p.role, p.at.join('.'), p.subjectId])).toEqual([
      ['applicant', 'persons.0', '051190001234'],
      ['co-applicant', 'persons.1', `dossier:${CODE}:co-applicant-1`],
      ['co-applicant', 'persons.2', '987654321'],
      // A VNeID account's personal ID number before a legacy ID.
      ['co-applicant', 'persons.3', '051090007777'],
      ['applicant', '', '051190001234'],
    ]);
    expect(found[1]!.holder).toBe(data.persons[1]);
    // A sealed list of documents names its subject by its kid: the sealed value is the id.
    const sealed = {
      dossierCode: CODE,
      persons: [{ role: 'applicant', fullName: 'x', documents: 'lgsp:pd2:k:documents:AAAA' }],
    };
    expect(personsIn(SUBMITTED_V2, sealed)[0]!.id).toBe('lgsp:pd2:k:documents:AAAA');
    // A role outside the expected shape falls back to the spec's.
    expect(
      personsIn(SUBMITTED_V2, { dossierCode: CODE, persons: [{ role: 'X Y', fullName: 'x' }] })[0]!.role,
    ).toBe('applicant');
  });

  it('finds nobody in other event types, data without the fields, or data that is not an object', () => {
    expect(
      personsIn('vn.gov.lgsp.dossier.status-changed.v1', { handler: { name: 'Trần Văn Bình' } }),
    ).toEqual([]);
    expect(personsIn(SUBMITTED, { dossierCode: CODE, applicant: {} })).toEqual([]);
    expect(personsIn(SUBMITTED, { dossierCode: CODE, civilRegistration: { person: 'x' } })).toEqual([]);
    expect(personsIn(SUBMITTED, null)).toEqual([]);
    expect(personsIn(SUBMITTED, ['x'])).toEqual([]);
  });
});
