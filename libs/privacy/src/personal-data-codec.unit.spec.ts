import { SqliteDatabase } from '#lgsp/storage/sqlite';
import {
  ERASED,
  PERSON_PREFIX,
  PersonalDataCodec,
  SqlSubjectKeyStore,
  isSealed,
  seal,
  sealedKid,
  sealedParts,
} from './index.js';

const SUBMITTED = 'vn.gov.lgsp.dossier.submitted.v1';
const CODE = '000.00.51.H56-251123-0001';
const STREAM = `dossier-${CODE}`;

const birth = () => ({
  dossierCode: CODE,
  procedureCode: '1.001193',
  applicant: { fullName: 'Nguyễn Thị Hoà', idNumber: '051190001234', email: 'hoa@example.vn' },
  civilRegistration: {
    registrationType: 'birth',
    person: { fullName: 'Trần Minh Khang', dateOfBirth: '2025-11-20', sex: 'male' },
    placeOfBirth: 'Bình Sơn',
    mother: { fullName: 'Nguyễn Thị Hoà', idNumber: '051190001234' },
    father: { fullName: 'Trần Văn Dũng', idNumber: '051085004321' },
  },
  fees: [{ name: 'Lệ phí', amount: 50000 }],
});

describe('PersonalDataCodec', () => {
  let db: SqliteDatabase;
  let keys: SqlSubjectKeyStore;
  let codec: PersonalDataCodec;

  beforeEach(async () => {
    db = SqliteDatabase.open(':memory:');
    keys = await SqlSubjectKeyStore.open(db);
    codec = new PersonalDataCodec(keys);
  });
  afterEach(() => db.close());

  it('seals only the personal fields, each person under its own subject key, leaving the input as it was', async () => {
    const data = birth();
    const before = structuredClone(data);
    const [event] = await codec.seal([{ type: SUBMITTED, stream: STREAM, data }]);
    expect(data).toEqual(before);
    const sealed = event!.data as ReturnType<typeof birth>;
    for (const v of [
      sealed.applicant.fullName,
      sealed.applicant.idNumber,
      sealed.applicant.email,
      sealed.civilRegistration.person.fullName,
      sealed.civilRegistration.person.dateOfBirth,
      sealed.civilRegistration.placeOfBirth,
      sealed.civilRegistration.mother.fullName,
      sealed.civilRegistration.mother.idNumber,
      sealed.civilRegistration.father.fullName,
      sealed.civilRegistration.father.idNumber,
    ])
      expect(isSealed(v)).toBe(true);
    // What is not personal stays as it was, shared with the input where nothing inside changed.
    expect(sealed.civilRegistration.person.sex).toBe('male');
    expect(sealed.civilRegistration.registrationType).toBe('birth');
    expect(sealed.procedureCode).toBe('1.001193');
    expect(sealed.fees).toBe(data.fees);
    expect(JSON.stringify(sealed)).not.toMatch(/Nguyễn|Trần|051190001234|051085004321|hoa@example/);
    // The applicant and the mother are one citizen: one key; the child (no ID) and the father have their own.
    const kid = (v: string) => sealedKid(v);
    expect(kid(sealed.applicant.idNumber)).toBe(kid(sealed.civilRegistration.mother.idNumber));
    expect(kid(sealed.civilRegistration.person.fullName)).toBe(kid(sealed.civilRegistration.placeOfBirth));
    expect(
      new Set([
        kid(sealed.applicant.idNumber),
        kid(sealed.civilRegistration.person.fullName),
        kid(sealed.civilRegistration.father.idNumber),
      ]).size,
    ).toBe(3);
    expect(await keys.subjectsIn(STREAM)).toEqual(
      [keys.ref('051190001234'), keys.ref('051085004321'), keys.ref(`dossier:${CODE}:person`)].sort(),
    );
    expect(await codec.revealOne(sealed)).toEqual(data);
  });

  it('returns events without persons as the same objects, and asks for no key', async () => {
    const status = {
      type: 'vn.gov.lgsp.dossier.status-changed.v1',
      stream: STREAM,
      data: { handler: { name: 'B' } },
    };
    const out = await codec.seal([status]);
    expect(out[0]).toBe(status);
    expect(await keys.subjectsIn(STREAM)).toEqual([]);
    const revealed = await codec.revealEvents(out);
    expect(revealed[0]).toBe(status);
  });

  it('leaves values already sealed as they are, and keeps the subject of a sealed ID', async () => {
    const [once] = await codec.seal([{ type: SUBMITTED, stream: STREAM, data: birth() }]);
    const [twice] = await codec.seal([once!]);
    expect(twice!.data).toEqual(once!.data);
    // A person whose ID is sealed but whose name came in clear: the name goes under the ID's key.
    const sealed = once!.data as ReturnType<typeof birth>;
    const partly = { ...sealed, applicant: { ...sealed.applicant, fullName: 'Nguyễn Thị Hoà' } };
    const [again] = await codec.seal([{ type: SUBMITTED, stream: STREAM, data: partly }]);
    const applicant = (again!.data as ReturnType<typeof birth>).applicant;
    expect(sealedKid(applicant.fullName)).toBe(sealedKid(applicant.idNumber));
    expect(await keys.state(keys.ref(`dossier:${CODE}:applicant`))).toBeUndefined();
    expect(await codec.revealOne(applicant)).toEqual(birth().applicant);
  });

  it('opens sealed values anywhere in any JSON (views, payloads), and leaves the rest untouched', async () => {
    const [event] = await codec.seal([{ type: SUBMITTED, stream: STREAM, data: birth() }]);
    const sealed = event!.data as ReturnType<typeof birth>;
    const view = {
      dossier: {
        code: CODE,
        people: [{ name: sealed.applicant.fullName }, [sealed.civilRegistration.father.idNumber]],
      },
      count: 3,
      flag: true,
      nothing: null,
    };
    expect(await codec.revealOne(view)).toEqual({
      dossier: { code: CODE, people: [{ name: 'Nguyễn Thị Hoà' }, ['051085004321']] },
      count: 3,
      flag: true,
      nothing: null,
    });
    const plain = { a: [1, { b: 'x' }] };
    expect(await codec.revealOne(plain)).toBe(plain);
    expect(codec.kidsIn(view)).toEqual(
      new Set([sealedKid(sealed.applicant.fullName), sealedKid(sealed.civilRegistration.father.idNumber)]),
    );
  });

  it('reads a destroyed subject’s values as [erased], others still clear; an altered value reads as [erased]', async () => {
    const [event] = await codec.seal([{ type: SUBMITTED, stream: STREAM, data: birth() }]);
    const sealed = event!.data as ReturnType<typeof birth>;
    // Read once: the clear values are cached, and must not outlive the key.
    expect((await codec.revealOne(sealed)).applicant.fullName).toBe('Nguyễn Thị Hoà');
    await keys.destroy(keys.ref('051190001234'));
    const after = await codec.revealOne(sealed);
    expect(after.applicant).toEqual({ fullName: ERASED, idNumber: ERASED, email: ERASED });
    expect(after.civilRegistration.mother).toEqual({ fullName: ERASED, idNumber: ERASED });
    expect(after.civilRegistration.father).toEqual({ fullName: 'Trần Văn Dũng', idNumber: '051085004321' });
    expect(after.civilRegistration.person.fullName).toBe('Trần Minh Khang');
    const original = sealed.civilRegistration.father.fullName;
    const at = original.length - 5;
    const altered = original.slice(0, at) + (original[at] === 'A' ? 'B' : 'A') + original.slice(at + 1);
    expect(await codec.revealOne(altered)).toBe(ERASED);
    expect(await codec.revealOne('lgsp:pd1:unknown-kid:AAAA')).toBe(ERASED);
  });

  it('gives new data of an erased subject a new key, while the old values stay erased', async () => {
    const [first] = await codec.seal([{ type: SUBMITTED, stream: STREAM, data: birth() }]);
    const ref = keys.ref('051190001234');
    await keys.destroy(ref);
    const [second] = await codec.seal([{ type: SUBMITTED, stream: 'dossier-other', data: birth() }]);
    const a = (first!.data as ReturnType<typeof birth>).applicant.idNumber;
    const b = (second!.data as ReturnType<typeof birth>).applicant.idNumber;
    expect(sealedKid(a)).not.toBe(sealedKid(b));
    expect(await codec.revealOne([a, b])).toEqual([ERASED, '051190001234']);
    expect(await keys.state(ref)).toMatchObject({ keys: 2, destroyed: 1 });
  });

  it('seals a person whose values did not change to the same strings; a change or a new key seals anew', async () => {
    const [a, b] = await codec.seal([
      { type: SUBMITTED, stream: STREAM, data: birth() },
      { type: SUBMITTED, stream: 'dossier-second', data: birth() },
    ]);
    const first = (a!.data as ReturnType<typeof birth>).applicant;
    expect((b!.data as ReturnType<typeof birth>).applicant).toEqual(first);
    const [c] = await codec.seal([{ type: SUBMITTED, stream: 'dossier-third', data: birth() }]);
    expect((c!.data as ReturnType<typeof birth>).applicant).toEqual(first);
    // The mother is the applicant's subject with other fields: her own body.
    const mother = (a!.data as ReturnType<typeof birth>).civilRegistration.mother;
    expect(sealedKid(mother.idNumber)).toBe(sealedKid(first.idNumber));
    expect(sealedParts(mother.idNumber)!.body).not.toBe(sealedParts(first.idNumber)!.body);
    const moved = birth();
    moved.applicant.email = 'hoa.nguyen@example.vn';
    const [d] = await codec.seal([{ type: SUBMITTED, stream: 'dossier-fourth', data: moved }]);
    const changed = (d!.data as ReturnType<typeof birth>).applicant;
    expect(sealedParts(changed.fullName)!.body).not.toBe(sealedParts(first.fullName)!.body);
    // What was sealed once or reused opens in a codec that sealed nothing.
    const fresh = new PersonalDataCodec(keys);
    expect(await fresh.revealOne([first, changed])).toEqual([birth().applicant, moved.applicant]);
    await keys.destroy(keys.ref('051190001234'));
    const [e] = await codec.seal([{ type: SUBMITTED, stream: 'dossier-fifth', data: birth() }]);
    const after = (e!.data as ReturnType<typeof birth>).applicant;
    expect(sealedKid(after.idNumber)).not.toBe(sealedKid(first.idNumber));
    expect(await codec.revealOne([first.idNumber, after.idNumber])).toEqual([ERASED, '051190001234']);
  });

  it('seals a person in one operation (pd2), and opens it alone, in another codec, and beside pd1 values', async () => {
    const [event] = await codec.seal([{ type: SUBMITTED, stream: STREAM, data: birth() }]);
    const sealed = event!.data as ReturnType<typeof birth>;
    const { fullName, idNumber, email } = sealed.applicant;
    for (const v of [fullName, idNumber, email]) expect(v.startsWith(PERSON_PREFIX)).toBe(true);
    expect(new Set([fullName, idNumber, email].map((v) => sealedParts(v)!.body)).size).toBe(1);
    // A codec that did not seal them (another process, after a restart) opens each field alone.
    const fresh = new PersonalDataCodec(keys);
    expect(await fresh.revealOne(idNumber)).toBe('051190001234');
    expect(await fresh.revealOne({ copied: email })).toEqual({ copied: 'hoa@example.vn' });
    expect(await fresh.revealOne(sealed)).toEqual(birth());
    // Events stored before pd2 hold one value per sealed string: they still open, beside pd2 ones.
    const key = (await keys.sealingKeys([{ ref: keys.ref('051190001234') }])).get(keys.ref('051190001234'))!;
    const old = seal(key.kid, key.key, 'Nguyễn Thị Hoà');
    expect(await fresh.revealOne([old, fullName])).toEqual(['Nguyễn Thị Hoà', 'Nguyễn Thị Hoà']);
    // A selector naming a field the person does not hold reads as erased, not as another value.
    expect(await fresh.revealOne(fullName.replace(':fullName:', ':phone:'))).toBe(ERASED);
    await keys.destroy(keys.ref('051190001234'));
    expect(await fresh.revealOne([old, fullName, email])).toEqual([ERASED, ERASED, ERASED]);
    expect(await codec.revealOne([old, fullName, email])).toEqual([ERASED, ERASED, ERASED]);
  });
});
