import { surrogateSubject } from './model.js';

/**
 * One person's fields inside an event's data: the object at `at` holds `fields`, all personal data of
 * the subject `subject` names. The values are sealed one by one, so the data keeps its shape.
 */
export interface PersonFields {
  /** The person's role in the dossier (names the surrogate subject of a person without an ID). */
  role: string;
  /**
   * Path of the object holding the fields, from the event's data; `[]` stands for every item of a list
   * (`['persons', '[]']`: each person of the list is a person of its own).
   */
  at: readonly string[];
  fields: readonly string[];
  /** The citizen-ID field of the object, whose value is the subject; a surrogate when absent. */
  idField?: string;
  /** Where the subject's citizen ID is, from the event's data, for fields outside the person's object. */
  idFrom?: readonly string[];
  /**
   * The subject's citizen ID found by a rule (a list of identity documents): for a holder, or from the
   * whole data for fields outside the person's object. A sealed value found is returned as it is.
   */
  idOf?: (holder: Record<string, unknown>, data: Record<string, unknown>) => unknown;
  /** The field of the holder that names its role (`role` is the fallback); a list's items have one each. */
  roleField?: string;
}

const DOSSIER_SUBMITTED = 'vn.gov.lgsp.dossier.submitted.v1';
const DOSSIER_SUBMITTED_V2 = 'vn.gov.lgsp.dossier.submitted.v2';
const CIVIL_STATUS_REGISTERED = 'vn.gov.lgsp.civil-status.registered.v1';

/** Marks every item of a list in {@link PersonFields.at}. */
export const EACH = '[]';

/**
 * A v2 person's subject: among their documents the citizen ID, else the personal ID number of their
 * VNeID account (the same 12 digits), else the legacy ID; or the documents themselves once sealed (their
 * kid names the subject).
 */
function documentsId(holder: Record<string, unknown>): unknown {
  const documents = holder['documents'];
  if (!Array.isArray(documents)) return documents;
  let vneid: unknown;
  let legacy: unknown;
  for (const doc of documents) {
    if (!isObject(doc)) continue;
    if (doc['kind'] === 'citizen-id') return doc['number'];
    if (doc['kind'] === 'vneid') vneid ??= doc['number'];
    if (doc['kind'] === 'legacy-id') legacy ??= doc['number'];
  }
  return vneid ?? legacy;
}

/** The applicant of a v2 `persons` list, for the summary, which names them. */
function applicantId(_holder: Record<string, unknown>, data: Record<string, unknown>): unknown {
  const persons = data['persons'];
  const applicant = Array.isArray(persons)
    ? persons.find((p) => isObject(p) && p['role'] === 'applicant')
    : undefined;
  return isObject(applicant) ? documentsId(applicant) : undefined;
}

/** The fields common to v1 and v2 of `dossier.submitted` outside its applicant. */
const CIVIL_REGISTRATION: readonly PersonFields[] = [
  { role: 'person', at: ['civilRegistration', 'person'], fields: ['fullName', 'dateOfBirth'] },
  { role: 'person', at: ['civilRegistration'], fields: ['placeOfBirth'] },
  {
    role: 'mother',
    at: ['civilRegistration', 'mother'],
    fields: ['fullName', 'idNumber'],
    idField: 'idNumber',
  },
  {
    role: 'father',
    at: ['civilRegistration', 'father'],
    fields: ['fullName', 'idNumber'],
    idField: 'idNumber',
  },
];

/**
 * The personal fields of each event type: applicants, the persons a civil-status registration is for,
 * and their parents (names, identity numbers, dates of birth, places of birth, e-mail, phone). The JSON
 * Schemas mark the same fields with `x-personal-data` (a test keeps both in step).
 */
export const PERSONAL_FIELDS: Readonly<Record<string, readonly PersonFields[]>> = {
  [DOSSIER_SUBMITTED]: [
    {
      role: 'applicant',
      at: ['applicant'],
      fields: ['fullName', 'idNumber', 'email', 'phone'],
      idField: 'idNumber',
    },
    // The one-line summary commune software writes names the applicant ("… của ông/bà <name>").
    { role: 'applicant', at: [], fields: ['summary'], idFrom: ['applicant', 'idNumber'] },
    ...CIVIL_REGISTRATION,
  ],
  // Every person of the list under their own key: the documents (numbers, kinds, VNeID levels) are
  // sealed as one value with the person's other fields.
  [DOSSIER_SUBMITTED_V2]: [
    {
      role: 'applicant',
      roleField: 'role',
      at: ['persons', EACH],
      fields: ['fullName', 'documents', 'dateOfBirth', 'email', 'phone'],
      idOf: documentsId,
    },
    { role: 'applicant', at: [], fields: ['summary'], idOf: applicantId },
    ...CIVIL_REGISTRATION,
  ],
  [CIVIL_STATUS_REGISTERED]: [
    { role: 'person', at: ['person'], fields: ['fullName', 'dateOfBirth', 'idNumber'], idField: 'idNumber' },
  ],
};

/** A person found in one event's data: the object holding the fields and the subject it belongs to. */
export interface FoundPerson {
  spec: PersonFields;
  /** The path of the holder from the data, list indexes included (`['persons', '1']`). */
  at: readonly string[];
  /** The person's role: the holder's {@link PersonFields.roleField}, else the spec's. */
  role: string;
  holder: Record<string, unknown>;
  subjectId: string;
  /** The subject's citizen ID as the data holds it (clear, or sealed), if any. */
  id: unknown;
}

const ROLE = /^[a-z][a-z-]{0,39}$/;

/**
 * The persons in an event's data (clear or sealed: a sealed ID is not read, the subject is then the
 * surrogate of the role). `dossierCode` comes from the data. A person without a citizen ID in a list
 * other than its applicant takes the surrogate of its role and place (`co-applicant-2`).
 */
export function personsIn(type: string, data: unknown): FoundPerson[] {
  const specs = PERSONAL_FIELDS[type];
  if (specs === undefined || !isObject(data)) return [];
  const dossierCode = typeof data.dossierCode === 'string' ? data.dossierCode : '';
  const out: FoundPerson[] = [];
  for (const spec of specs) {
    for (const { path, holder } of holders(data, spec.at)) {
      if (!spec.fields.some((f) => holder[f] !== undefined)) continue;
      const id =
        spec.idOf !== undefined
          ? spec.idOf(holder, data)
          : spec.idFrom !== undefined
            ? valueAt(data, spec.idFrom)
            : spec.idField === undefined
              ? undefined
              : holder[spec.idField];
      const named = spec.roleField === undefined ? undefined : holder[spec.roleField];
      const role = typeof named === 'string' && ROLE.test(named) ? named : spec.role;
      const listed = spec.at.includes(EACH);
      // In a list, only the applicant is one of a kind: the others are told apart by their place.
      const surrogateRole = listed && role !== 'applicant' ? `${role}-${path.at(-1) ?? ''}` : role;
      out.push({
        spec,
        at: path,
        role,
        holder,
        id,
        subjectId:
          typeof id === 'string' && /^\d{9,12}$/.test(id) ? id : surrogateSubject(dossierCode, surrogateRole),
      });
    }
  }
  return out;
}

/** The objects at `path` (one per list item where it says {@link EACH}), with their concrete paths. */
function holders(
  data: Record<string, unknown>,
  path: readonly string[],
): { path: string[]; holder: Record<string, unknown> }[] {
  if (!path.includes(EACH)) {
    // No list on the way (most specs): at most one holder, walked without the lists below.
    const holder = objectAt(data, path);
    return holder === undefined ? [] : [{ path: [...path], holder }];
  }
  let found: { path: string[]; node: unknown }[] = [{ path: [], node: data }];
  for (const key of path) {
    const next: { path: string[]; node: unknown }[] = [];
    for (const { path: p, node } of found) {
      if (key === EACH) {
        if (Array.isArray(node))
          node.forEach((item, i) => next.push({ path: [...p, String(i)], node: item }));
      } else if (isObject(node)) next.push({ path: [...p, key], node: node[key] });
    }
    found = next;
  }
  return found.flatMap(({ path: p, node }) => (isObject(node) ? [{ path: p, holder: node }] : []));
}

function valueAt(data: Record<string, unknown>, path: readonly string[]): unknown {
  const holder = objectAt(data, path.slice(0, -1));
  return holder?.[path[path.length - 1] ?? ''];
}

function objectAt(
  data: Record<string, unknown>,
  path: readonly string[],
): Record<string, unknown> | undefined {
  let v: unknown = data;
  for (const key of path) {
    if (!isObject(v)) return undefined;
    v = v[key];
  }
  return isObject(v) ? v : undefined;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
