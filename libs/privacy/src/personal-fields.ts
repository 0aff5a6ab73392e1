import { surrogateSubject } from './model.js';

/**
 * One person's fields inside an event's data: the object at `at` holds `fields`, all personal data of
 * the subject `subject` names. The values are sealed one by one, so the data keeps its shape.
 */
export interface PersonFields {
  /** The person's role in the dossier (names the surrogate subject of a person without an ID). */
  role: string;
  /** Path of the object holding the fields, from the event's data. */
  at: readonly string[];
  fields: readonly string[];
  /** The citizen-ID field of the object, whose value is the subject; a surrogate when absent. */
  idField?: string;
  /** Where the subject's citizen ID is, from the event's data, for fields outside the person's object. */
  idFrom?: readonly string[];
}

const DOSSIER_SUBMITTED = 'vn.gov.lgsp.dossier.submitted.v1';
const CIVIL_STATUS_REGISTERED = 'vn.gov.lgsp.civil-status.registered.v1';

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
  ],
  [CIVIL_STATUS_REGISTERED]: [
    { role: 'person', at: ['person'], fields: ['fullName', 'dateOfBirth', 'idNumber'], idField: 'idNumber' },
  ],
};

/** A person found in one event's data: the object holding the fields and the subject it belongs to. */
export interface FoundPerson {
  spec: PersonFields;
  holder: Record<string, unknown>;
  subjectId: string;
  /** The subject's citizen ID as the data holds it (clear, or sealed), if any. */
  id: unknown;
}

/**
 * The persons in an event's data (clear or sealed: a sealed ID is not read, the subject is then the
 * surrogate of the role). `dossierCode` comes from the data.
 */
export function personsIn(type: string, data: unknown): FoundPerson[] {
  const specs = PERSONAL_FIELDS[type];
  if (specs === undefined || !isObject(data)) return [];
  const dossierCode = typeof data.dossierCode === 'string' ? data.dossierCode : '';
  const out: FoundPerson[] = [];
  for (const spec of specs) {
    const holder = at(data, spec.at);
    if (holder === undefined || !spec.fields.some((f) => holder[f] !== undefined)) continue;
    const id =
      spec.idFrom !== undefined
        ? valueAt(data, spec.idFrom)
        : spec.idField === undefined
          ? undefined
          : holder[spec.idField];
    out.push({
      spec,
      holder,
      id,
      subjectId:
        typeof id === 'string' && /^\d{9,12}$/.test(id) ? id : surrogateSubject(dossierCode, spec.role),
    });
  }
  return out;
}

function valueAt(data: Record<string, unknown>, path: readonly string[]): unknown {
  const holder = at(data, path.slice(0, -1));
  return holder?.[path[path.length - 1] ?? ''];
}

function at(data: Record<string, unknown>, path: readonly string[]): Record<string, unknown> | undefined {
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
