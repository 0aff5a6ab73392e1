import { DomainError } from '#lgsp/contracts';
import { localizeProblem, problemHeaders, toProblem } from './problem.js';

describe('problem details', () => {
  it('maps each domain error code to its status, keeping the pointers', () => {
    const cases: [ConstructorParameters<typeof DomainError>[0], number][] = [
      ['malformed', 400],
      ['unauthenticated', 401],
      ['forbidden', 403],
      ['not-found', 404],
      ['conflict', 409],
      ['too-large', 413],
      ['unsupported-media-type', 415],
      ['invalid', 422],
      ['rate-limited', 429],
      ['unavailable', 503],
    ];
    for (const [code, status] of cases) {
      const p = toProblem(new DomainError(code, 'why', [{ pointer: '/0/data', message: 'm' }]), '/v1/events');
      expect(p).toEqual({
        type: `https://lgsp-hub.vn/problems/${code}`,
        title: expect.any(String),
        status,
        detail: 'why',
        errors: [{ pointer: '/0/data', message: 'm' }],
        instance: '/v1/events',
      });
    }
  });

  it("maps Fastify's body limit to 413 and hides internal errors behind a 500", () => {
    expect(toProblem({ statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE', message: 'x' }).status).toBe(413);
    const internal = toProblem(new Error('SQLITE_CORRUPT at /secret/path'));
    expect(internal.status).toBe(500);
    expect(internal.detail).not.toContain('secret');
  });

  it('titles a problem without a domain code by the reason phrase of its status (RFC 9457 about:blank)', () => {
    expect(toProblem({ statusCode: 431, message: 'headers too large' })).toMatchObject({
      type: 'about:blank',
      title: 'Request Header Fields Too Large',
      status: 431,
      detail: 'headers too large',
    });
  });
});

describe('problem details in Vietnamese', () => {
  const VI_TITLES: [ConstructorParameters<typeof DomainError>[0], string][] = [
    ['malformed', 'Yêu cầu không hợp lệ'],
    ['unauthenticated', 'Cần xác thực'],
    ['forbidden', 'Ngoài phạm vi của ứng dụng khách'],
    ['not-found', 'Không tìm thấy'],
    ['conflict', 'Xung đột phiên bản'],
    ['too-large', 'Yêu cầu quá lớn'],
    ['unsupported-media-type', 'Kiểu nội dung không được hỗ trợ'],
    ['invalid', 'Dữ liệu không hợp lệ'],
    ['rate-limited', 'Quá nhiều yêu cầu'],
    ['unavailable', 'Dịch vụ tạm thời không khả dụng'],
  ];

  it.each(VI_TITLES)('titles %s in Vietnamese', (code, title) => {
    const p = localizeProblem(toProblem(new DomainError(code, 'batch is empty', []), '/v1/events'), 'vi');
    expect(p).toMatchObject({ title, detail: 'lô rỗng', type: `https://lgsp-hub.vn/problems/${code}` });
  });

  it('translates the detail and each issue message, keeping the pointers', () => {
    const error = new DomainError('invalid', '2 schema violation(s)', [
      { pointer: '/data/note', message: 'is required' },
      { pointer: '/data/x', message: 'must NOT have more than 200 characters' },
    ]);
    expect(localizeProblem(toProblem(error, '/v1/events'), 'vi')).toMatchObject({
      detail: '2 lỗi vi phạm lược đồ',
      errors: [
        { pointer: '/data/note', message: 'là bắt buộc' },
        { pointer: '/data/x', message: 'không được dài quá 200 ký tự' },
      ],
    });
  });

  it('gives a Vietnamese detail of its own for a text the catalogue does not know', () => {
    const p = localizeProblem(toProblem(new DomainError('not-found', 'nobody wrote this')), 'vi');
    expect(p.detail).toBe('không tìm thấy tài nguyên được yêu cầu');
    const framework = localizeProblem(toProblem({ statusCode: 405, message: 'Method Not Allowed' }), 'vi');
    expect(framework).toMatchObject({ title: 'Phương thức không được phép', status: 405 });
    expect(framework.detail).not.toContain('Method');
  });

  it('answers a 500 in Vietnamese without revealing anything', () => {
    const p = localizeProblem(toProblem(new Error('SQLITE_CORRUPT at /secret/path')), 'vi');
    expect(p).toMatchObject({ title: 'Lỗi máy chủ nội bộ', status: 500 });
    expect(p.detail).toBe('hub không xử lý được yêu cầu; lỗi đã được ghi lại');
  });

  it('leaves English as it is, and names the language and Vary in the headers', () => {
    const p = toProblem(new DomainError('malformed', 'batch is empty'));
    expect(localizeProblem(p, 'en')).toBe(p);
    expect(problemHeaders('vi')).toEqual({
      'content-type': 'application/problem+json',
      'content-language': 'vi',
      vary: 'Accept-Language',
    });
  });
});
