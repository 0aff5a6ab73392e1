import { DomainError, isEventType, pointerToken, type Issue } from '#lgsp/contracts';
import type { ReplayScope } from './model.js';

/** Dossier codes a scope may list. */
export const MAX_SCOPE_DOSSIERS = 100_000;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const KEYS = new Set(['dossiers', 'from', 'to', 'types', 'provinceCode', 'communeCode', 'reconciliationRun']);

/**
 * Checks a scope as an operator sent it and returns it without duplicates, or throws a DomainError
 * `invalid` naming each bad field by its JSON pointer under `at` (the scope's place in the request).
 */
export function validateReplayScope(input: unknown, at = '/scope'): ReplayScope {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input))
    throw new DomainError('invalid', 'the replay scope must be an object', [
      { pointer: at, message: 'must be an object' },
    ]);
  const raw = input as Record<string, unknown>;
  const issues: Issue[] = [];
  const issue = (field: string, message: string) =>
    issues.push({ pointer: `${at}/${pointerToken(field)}`, message });
  for (const key of Object.keys(raw)) if (!KEYS.has(key)) issue(key, 'is not a scope criterion');
  const scope: ReplayScope = {};

  if (raw.dossiers !== undefined) {
    const list = raw.dossiers;
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_SCOPE_DOSSIERS)
      issue('dossiers', `must be a list of 1 to ${MAX_SCOPE_DOSSIERS} dossier codes`);
    else {
      list.forEach((d, i) => {
        if (typeof d !== 'string' || d.length === 0 || d.length > 100 || /\s/.test(d))
          issues.push({ pointer: `${at}/dossiers/${i}`, message: 'must be a dossier code' });
      });
      scope.dossiers = [...new Set(list as string[])];
    }
  }
  for (const field of ['from', 'to'] as const) {
    const v = raw[field];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !RFC3339.test(v) || Number.isNaN(Date.parse(v)))
      issue(field, 'must be an RFC 3339 time with its offset');
    else scope[field] = v;
  }
  if (scope.from !== undefined && scope.to !== undefined && Date.parse(scope.from) >= Date.parse(scope.to))
    issue('to', 'must be after from');
  if (raw.types !== undefined) {
    const list = raw.types;
    if (!Array.isArray(list) || list.length === 0) issue('types', 'must be a list of event types');
    else {
      list.forEach((t, i) => {
        if (!isEventType(t))
          issues.push({ pointer: `${at}/types/${i}`, message: 'is not an event type of the catalogue' });
      });
      scope.types = [...new Set(list as string[])];
    }
  }
  if (raw.provinceCode !== undefined) {
    if (typeof raw.provinceCode !== 'string' || !/^[0-9]{2}$/.test(raw.provinceCode))
      issue('provinceCode', 'must be a 2-digit province code');
    else scope.provinceCode = raw.provinceCode;
  }
  if (raw.communeCode !== undefined) {
    if (typeof raw.communeCode !== 'string' || !/^[0-9]{5}$/.test(raw.communeCode))
      issue('communeCode', 'must be a 5-digit commune code');
    else scope.communeCode = raw.communeCode;
  }
  if (raw.reconciliationRun !== undefined) {
    if (typeof raw.reconciliationRun !== 'string' || raw.reconciliationRun.length === 0)
      issue('reconciliationRun', 'must be a reconciliation run id');
    else scope.reconciliationRun = raw.reconciliationRun;
  }
  if (issues.length > 0) throw new DomainError('invalid', 'the replay scope is not valid', issues);
  return scope;
}
