import type { CloudEvent, Issue } from '#lgsp/contracts';

/**
 * What ingest does with a dossier code or agency code the national portal would not accept: nothing
 * (`off`), accept the event and say so in the answer (`warn`), or refuse it (`refuse`).
 */
export type CodeCheckMode = 'off' | 'warn' | 'refuse';

/** The forms the check expects, as regular expressions (JavaScript syntax, anchored by the caller's pattern). */
export interface PortalCodeRules {
  /**
   * An agency's electronic ID. The default, four dot-separated levels ending in a level-1 group of a
   * letter and two digits (`000.00.15.H12`, `000.00.00.G22`), is what the public integration code and
   * Decision 20/2020/QĐ-TTg examples show; the decision allows other depths, so it is configurable.
   */
  agencyPattern: string;
  /**
   * A dossier code. The default is `{agency ID}-{yyMMdd}-{4-digit daily counter}`, with the 5-digit
   * random suffix seen for out-of-province agencies. A named group `date` is checked as a real yyMMdd day.
   */
  dossierCodePattern: string;
}

export const PORTAL_CODE_RULES: PortalCodeRules = {
  agencyPattern: '^[0-9]{3}\\.[0-9]{2}\\.[0-9]{2}\\.[A-Z][0-9]{2}$',
  dossierCodePattern: '^[0-9]{3}\\.[0-9]{2}\\.[0-9]{2}\\.[A-Z][0-9]{2}-(?<date>[0-9]{6})-[0-9]{4,5}$',
};

/**
 * The optional early check of dossier and agency codes (issue: a commune should learn at ingest what
 * would otherwise be parked at the portal). It reads `data.dossierCode` and `data.agencyCode` of any
 * event that carries them; schema validation has already run, so both are strings of the generic form.
 */
export class PortalCodeCheck {
  private readonly agency: RegExp;
  private readonly dossier: RegExp;

  /** @throws SyntaxError when a pattern is not a valid regular expression. */
  constructor(
    readonly mode: CodeCheckMode,
    rules: PortalCodeRules = PORTAL_CODE_RULES,
  ) {
    this.agency = new RegExp(rules.agencyPattern, 'u');
    this.dossier = new RegExp(rules.dossierCodePattern, 'u');
  }

  /** The codes of `events` the portal would refuse, with pointers as the validator writes them. */
  issues(events: readonly CloudEvent[], single: boolean): Issue[] {
    if (this.mode === 'off') return [];
    const issues: Issue[] = [];
    events.forEach((event, index) => {
      const data = event.data;
      if (data === null || typeof data !== 'object' || Array.isArray(data)) return;
      const at = single ? '/data' : `/${index}/data`;
      const { dossierCode, agencyCode } = data as { dossierCode?: unknown; agencyCode?: unknown };
      if (typeof dossierCode === 'string' && !this.dossierCodeOk(dossierCode)) {
        issues.push({
          pointer: `${at}/dossierCode`,
          message:
            `dossier code ${JSON.stringify(dossierCode)} does not have the form the national portal accepts ` +
            '({agency ID}-{yyMMdd}-{4 or 5 digits}, e.g. 000.00.15.H12-250701-0001)',
        });
      }
      if (typeof agencyCode === 'string' && !this.agency.test(agencyCode)) {
        issues.push({
          pointer: `${at}/agencyCode`,
          message:
            `agency code ${JSON.stringify(agencyCode)} does not have the form the national portal accepts ` +
            '(an agency electronic ID such as 000.00.15.H12)',
        });
      }
    });
    return issues;
  }

  private dossierCodeOk(code: string): boolean {
    const match = this.dossier.exec(code);
    if (match === null) return false;
    const date = match.groups?.date;
    return date === undefined || isYyMMdd(date);
  }
}

/** `yyMMdd` naming a real day (20yy). */
function isYyMMdd(text: string): boolean {
  if (!/^[0-9]{6}$/.test(text)) return false;
  const year = 2000 + Number(text.slice(0, 2));
  const month = Number(text.slice(2, 4));
  const day = Number(text.slice(4, 6));
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}
