import { STATUS_CODES } from 'node:http';
import { isDomainError, type DomainErrorCode, type Issue } from '#lgsp/contracts';

/** RFC 9457 problem details, with the hub's `errors` extension member. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors: Issue[];
  instance?: string;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const PROBLEM_BASE = 'https://lgsp-hub.vn/problems/';

const STATUS: Record<DomainErrorCode, [number, string]> = {
  malformed: [400, 'Malformed request'],
  unauthenticated: [401, 'Authentication required'],
  forbidden: [403, 'Outside the client scope'],
  'not-found': [404, 'Not found'],
  conflict: [409, 'Expected version conflict'],
  'too-large': [413, 'Request too large'],
  'unsupported-media-type': [415, 'Unsupported media type'],
  invalid: [422, 'Validation failed'],
  'rate-limited': [429, 'Too many requests'],
  unavailable: [503, 'Service unavailable'],
};

const CODE_BY_STATUS = new Map<number, DomainErrorCode>(
  Object.entries(STATUS).map(([code, [status]]) => [status, code as DomainErrorCode]),
);

export function problem(
  code: DomainErrorCode,
  detail: string,
  errors: Issue[] = [],
  instance?: string,
): Problem {
  const [status, title] = STATUS[code];
  return { type: PROBLEM_BASE + code, title, status, detail, errors, ...(instance ? { instance } : {}) };
}

interface HttpLikeError {
  statusCode?: number;
  status?: number;
  code?: string;
  message?: string;
  getStatus?: () => number;
  getResponse?: () => unknown;
}

/**
 * Maps any error to a problem. Domain errors carry their own code; framework errors (Fastify's
 * body limit, NestJS HTTP exceptions) keep their status; anything else is a 500 whose detail
 * reveals nothing internal.
 */
export function toProblem(error: unknown, instance?: string): Problem {
  if (isDomainError(error)) return problem(error.code, error.message, [...error.issues], instance);
  const e = (error ?? {}) as HttpLikeError;
  const status = e.getStatus?.() ?? e.statusCode ?? e.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return problem('too-large', 'the request body is larger than the limit', [], instance);
    }
    const code = CODE_BY_STATUS.get(status);
    const detail = e.message ?? 'request rejected';
    if (code) return problem(code, detail, [], instance);
    return {
      type: 'about:blank',
      // RFC 9457 §4.2.1: with about:blank, the title is the status's reason phrase.
      title: STATUS_CODES[status] ?? detail,
      status,
      detail,
      errors: [],
      ...(instance ? { instance } : {}),
    };
  }
  if (status === 503) return problem('unavailable', e.message ?? 'unavailable', [], instance);
  return {
    type: 'about:blank',
    title: 'Internal Server Error',
    status: 500,
    detail: 'the hub failed to process the request; it has been logged',
    errors: [],
    ...(instance ? { instance } : {}),
  };
}
