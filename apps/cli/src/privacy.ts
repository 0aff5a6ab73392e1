import type { AffectedReport, AffectedSubject } from '#lgsp/privacy';
import { query, type Ctx } from './command.js';
import { EXIT, UsageError } from './io.js';
import { cell, table } from './table.js';

/** The answer of `GET /v1/admin/privacy/affected`, as the hub's privacy library defines it. */
export type AffectedPage = AffectedReport & { window: { from: string; to: string } };

/** Subjects asked per page of the API. */
const PAGE = 1000;

/** The personal fields of the CSV, in this order (a field a subject lacks is an empty cell). */
const CSV_FIELDS = ['fullName', 'idNumber', 'dateOfBirth', 'placeOfBirth', 'email', 'phone'] as const;

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, a quote or a line break; a cell a spreadsheet
 * would run as a formula (`=`, `+`, `-`, `@` first) is prefixed with `'`.
 */
export function csvCell(value: unknown): string {
  let text = value === undefined || value === null ? '' : String(value);
  if (/^[=+\-@]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The subjects as CSV, a header line first. */
export function affectedCsv(subjects: readonly AffectedSubject[]): string {
  const header = ['subjectRef', 'roles', 'dossiers', 'firstSeen', 'lastSeen', ...CSV_FIELDS];
  const rows = subjects.map((s) => [
    s.subjectRef,
    s.roles.join(';'),
    s.dossiers.join(';'),
    s.firstSeen,
    s.lastSeen,
    ...CSV_FIELDS.map((f) => s.fields[f]),
  ]);
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/**
 * `privacy affected --from T --to T [--province P] [--commune C] [--target T] [--json | --csv]`: every
 * data subject whose personal data passed through the scope in the window (all pages of the API), for
 * a breach report. Erased subjects are neither listed nor counted.
 */
export async function privacyAffected(ctx: Ctx): Promise<number> {
  const { flags } = ctx;
  if (flags.from === undefined || flags.to === undefined)
    throw new UsageError(
      'privacy affected needs --from and --to (RFC 3339 times, e.g. 2026-03-01T00:00:00+07:00)',
    );
  if (flags.csv && flags.json) throw new UsageError('give --json or --csv, not both');
  const params = {
    from: flags.from,
    to: flags.to,
    province: flags.province,
    commune: flags.commune,
    target: flags.target,
  };
  const subjects: AffectedSubject[] = [];
  let first: AffectedPage | undefined;
  let after: string | undefined;
  do {
    const page = await ctx.api.call<AffectedPage>(
      'GET',
      `/v1/admin/privacy/affected${query({ ...params, limit: PAGE, after })}`,
    );
    first ??= page;
    subjects.push(...page.subjects);
    after = page.next;
  } while (after !== undefined);

  if (flags.csv) {
    ctx.io.stdout.write(affectedCsv(subjects));
    return EXIT.ok;
  }
  const { window, scanned } = first;
  const machine = {
    window,
    scope: { province: params.province, commune: params.commune, target: params.target },
    subjects,
    total: subjects.length,
    erasedOmitted: true,
    scanned,
  };
  const human =
    table(
      ['SUBJECT', 'ROLES', 'DOSSIERS', 'FIRST SEEN', 'LAST SEEN', 'NAME', 'ID NUMBER'],
      subjects.map((s) => [
        s.subjectRef,
        s.roles.join(','),
        cell(s.dossiers.join(','), 60),
        s.firstSeen,
        s.lastSeen,
        s.fields.fullName,
        s.fields.idNumber,
      ]),
    ) +
    `\n${subjects.length} data subject(s) from ${window.from} to ${window.to}` +
    ` (events at positions ${scanned.fromPosition}–${scanned.throughPosition});` +
    ' subjects erased before this report are left out and not counted';
  ctx.out.print(human, machine);
  return EXIT.ok;
}
