import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestAuditEntry } from './audit-requests.js';

const call = (method: string, route: string, status: number, client?: string) => {
  const req = {
    method,
    url: route,
    routeOptions: { url: route },
    ...(client ? { client: { name: client } } : {}),
  } as unknown as FastifyRequest;
  return requestAuditEntry(req, { statusCode: status } as FastifyReply, '2026-12-06T00:00:00Z');
};

describe('audit entries of requests', () => {
  it('records every call of the operator API', () => {
    expect(call('GET', '/v1/admin/clients', 200, 'ops')).toMatchObject({
      actor: 'ops',
      action: 'http.get',
      subject: '/v1/admin/clients',
      outcome: { status: 200 },
    });
  });

  it("records the console's forms, answered or refused, and none of its page views", () => {
    expect(call('POST', '/console/mismatches', 303, 'ops')).toMatchObject({
      actor: 'ops',
      action: 'http.post',
      subject: '/console/mismatches',
      outcome: { status: 303 },
    });
    expect(call('POST', '/console/login', 403)).toMatchObject({
      actor: 'anonymous',
      outcome: { status: 403, refused: true },
    });
    expect(call('GET', '/console/mismatches/:id/status', 200, 'ops')).toBeUndefined();
    expect(call('POST', '/v1/events', 201, 'commune')).toBeUndefined();
    expect(call('POST', '/console/login', 429)).toBeUndefined();
  });
});
