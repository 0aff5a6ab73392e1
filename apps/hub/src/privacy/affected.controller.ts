import { Controller, Get, Inject, Optional, Query } from '@nestjs/common';
import { DomainError, type Issue } from '#lgsp/contracts';
import { affectedWindow, type AffectedReport } from '#lgsp/privacy';
import type { AuditLog, Client } from '#lgsp/security';
import { MAX_PAGE } from '../http/query.js';
import { Caller, Roles } from '../http/roles.js';
import { AFFECTED, AUDIT_LOG } from '../http/tokens.js';
import type { AffectedFinder, AffectedRequest } from './affected-parts.js';

const PARAMETERS = ['from', 'to', 'province', 'commune', 'target', 'limit', 'after'] as const;
const PROVINCE = /^[0-9]{2}$/;
const COMMUNE = /^[0-9]{5}$/;
const MAX_CODES = 100;

/**
 * The query string of `GET /v1/admin/privacy/affected`, checked in one pass: every bad parameter is
 * one issue of a 422 `invalid` problem, pointed at by its name.
 */
export function affectedRequest(query: Record<string, unknown>): AffectedRequest {
  const issues: Issue[] = [];
  const one = (name: string): string | undefined => {
    const v = query[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') {
      issues.push({ pointer: `/${name}`, message: 'must be given once' });
      return undefined;
    }
    return v;
  };
  for (const name of Object.keys(query))
    if (!(PARAMETERS as readonly string[]).includes(name))
      issues.push({ pointer: `/${name}`, message: `is not a parameter (${PARAMETERS.join(', ')})` });
  const codes = (name: string, pattern: RegExp, what: string): string[] | undefined => {
    const v = one(name);
    if (v === undefined || v === '') return undefined;
    const list = [...new Set(v.split(',').map((s) => s.trim()))];
    if (list.length > MAX_CODES || !list.every((c) => pattern.test(c)))
      issues.push({ pointer: `/${name}`, message: `must be up to ${MAX_CODES} ${what}, comma-separated` });
    return list;
  };
  const provinces = codes('province', PROVINCE, '2-digit province codes');
  const communes = codes('commune', COMMUNE, '5-digit commune codes');
  const target = one('target');
  if (target !== undefined && (target.length === 0 || target.length > 200))
    issues.push({ pointer: '/target', message: 'must be a target name of 1 to 200 characters' });
  const limitText = one('limit');
  let limit = 100;
  if (limitText !== undefined) {
    limit = /^[0-9]{1,4}$/.test(limitText) ? Number(limitText) : NaN;
    if (!(limit >= 1 && limit <= MAX_PAGE))
      issues.push({ pointer: '/limit', message: `must be an integer from 1 to ${MAX_PAGE}` });
  }
  const after = one('after');
  if (after !== undefined && !/^[A-Za-z0-9_-]{1,100}$/.test(after))
    issues.push({ pointer: '/after', message: 'must be the next cursor of a previous page' });
  let window;
  try {
    window = affectedWindow(one('from'), one('to'));
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    issues.push(...err.issues);
  }
  if (issues.length > 0 || window === undefined)
    throw new DomainError('invalid', 'the query of who was affected is not valid', issues);
  return {
    window,
    limit,
    ...(provinces === undefined ? {} : { provinces }),
    ...(communes === undefined ? {} : { communes }),
    ...(target === undefined ? {} : { target }),
    ...(after === undefined ? {} : { after }),
  };
}

/**
 * Who was affected (Law 91/2025 Art. 23): the data subjects whose personal data passed through a
 * scope in a window, for a breach report. Admin and operator only (a province or commune client gets
 * 403 before anything is read). Each answer is audited with its scope, window and count, never with a
 * name or an ID; erased subjects are neither listed nor counted.
 */
@Roles('admin', 'operator')
@Controller('v1/admin/privacy')
export class AffectedController {
  constructor(
    @Optional() @Inject(AFFECTED) private readonly affected: AffectedFinder | undefined,
    @Optional() @Inject(AUDIT_LOG) private readonly audit: AuditLog | undefined,
  ) {}

  @Get('affected')
  async find(
    @Caller() caller: Client,
    @Query() query: Record<string, unknown>,
  ): Promise<AffectedReport & { window: { from: string; to: string } }> {
    if (this.affected === undefined)
      throw new DomainError(
        'not-found',
        'personal data is not sealed on this hub (privacy.enabled is false)',
      );
    const request = affectedRequest(query);
    const report = await this.affected.find(request);
    const window = {
      from: new Date(request.window.from).toISOString(),
      to: new Date(request.window.to).toISOString(),
    };
    await this.audit?.record({
      at: new Date().toISOString(),
      actor: caller.name,
      action: 'privacy.affected',
      subject: request.target ?? 'privacy:affected',
      scope: {
        ...window,
        ...(request.provinces === undefined ? {} : { provinces: request.provinces }),
        ...(request.communes === undefined ? {} : { communes: request.communes }),
        ...(request.target === undefined ? {} : { target: request.target }),
        limit: request.limit,
        ...(request.after === undefined ? {} : { after: request.after }),
      },
      outcome: { total: report.total, returned: report.subjects.length, erasedOmitted: true },
    });
    return { window, ...report };
  }
}
