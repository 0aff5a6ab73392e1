import { STATUS_CODES } from 'node:http';
import { isDomainError, messageVi, type DomainErrorCode, type Issue } from '#lgsp/contracts';
import type { Language } from './language.js';

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

/**
 * Vietnamese titles, and the detail given when a message has no Vietnamese in the catalogue
 * (libs/contracts/src/messages-vi.ts): a framework's own text, or a driver's. The hub's own messages
 * all have one (test/i18n checks it).
 */
const VI: Record<DomainErrorCode, [title: string, detail: string]> = {
  malformed: ['Yêu cầu không hợp lệ', 'yêu cầu không đúng định dạng'],
  unauthenticated: ['Cần xác thực', 'yêu cầu cần mã thông báo (token) hợp lệ'],
  forbidden: ['Ngoài phạm vi của ứng dụng khách', 'yêu cầu nằm ngoài phạm vi của ứng dụng khách'],
  'not-found': ['Không tìm thấy', 'không tìm thấy tài nguyên được yêu cầu'],
  conflict: ['Xung đột phiên bản', 'yêu cầu xung đột với trạng thái hiện tại'],
  'too-large': ['Yêu cầu quá lớn', 'yêu cầu vượt quá giới hạn kích thước'],
  'unsupported-media-type': [
    'Kiểu nội dung không được hỗ trợ',
    'kiểu nội dung của yêu cầu không được hỗ trợ',
  ],
  invalid: ['Dữ liệu không hợp lệ', 'dữ liệu của yêu cầu không hợp lệ'],
  'rate-limited': ['Quá nhiều yêu cầu', 'quá nhiều yêu cầu; hãy đợi theo Retry-After rồi thử lại'],
  unavailable: ['Dịch vụ tạm thời không khả dụng', 'dịch vụ tạm thời không khả dụng; hãy thử lại sau'],
};

/** Vietnamese reason phrases of the statuses a problem without a domain code can have (`about:blank`). */
const VI_REASON: Readonly<Record<number, string>> = {
  400: 'Yêu cầu không hợp lệ',
  401: 'Cần xác thực',
  403: 'Bị từ chối',
  404: 'Không tìm thấy',
  405: 'Phương thức không được phép',
  406: 'Không thể đáp ứng định dạng yêu cầu',
  408: 'Hết thời gian chờ yêu cầu',
  409: 'Xung đột',
  411: 'Cần Content-Length',
  413: 'Yêu cầu quá lớn',
  414: 'URI quá dài',
  415: 'Kiểu nội dung không được hỗ trợ',
  417: 'Không đáp ứng được Expect',
  422: 'Dữ liệu không hợp lệ',
  429: 'Quá nhiều yêu cầu',
  431: 'Tiêu đề yêu cầu quá lớn',
  500: 'Lỗi máy chủ nội bộ',
  503: 'Dịch vụ tạm thời không khả dụng',
};
const VI_REASON_OTHER = 'Yêu cầu bị từ chối';

/**
 * The problem in `language`: English as built, or a Vietnamese title, detail and issue messages. The
 * Vietnamese is made from the English text only (see messageVi), so it tells nothing the English did not.
 */
export function localizeProblem(body: Problem, language: Language): Problem {
  if (language === 'en') return body;
  const code = body.type.startsWith(PROBLEM_BASE)
    ? (body.type.slice(PROBLEM_BASE.length) as DomainErrorCode)
    : undefined;
  const vi = code === undefined ? undefined : VI[code];
  const title = vi?.[0] ?? VI_REASON[body.status] ?? VI_REASON_OTHER;
  const detail = messageVi(body.detail) ?? vi?.[1] ?? `${title.toLowerCase()} (HTTP ${body.status})`;
  return {
    ...body,
    title,
    detail,
    errors: body.errors.map((e) => ({ pointer: e.pointer, message: messageVi(e.message) ?? e.message })),
  };
}

/** The headers of a problem response in `language`: its media type, its language, and what it varies on. */
export function problemHeaders(language: Language): Record<string, string> {
  return { 'content-type': PROBLEM_CONTENT_TYPE, 'content-language': language, vary: 'Accept-Language' };
}

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
