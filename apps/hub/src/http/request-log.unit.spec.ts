import type { FastifyRequest } from 'fastify';
import { isContractName } from '#lgsp/contracts';
import { loggablePointers, requestLogFields } from './request-log.js';

const request = (url: string, route?: string): FastifyRequest =>
  ({ method: 'GET', url, routeOptions: { url: route } }) as unknown as FastifyRequest;

describe('what a log line says about a request', () => {
  it('names the route pattern, never the path with its parameters', () => {
    expect(requestLogFields(request('/v1/streams/dossier-Nguy%E1%BB%85n', '/v1/streams/:stream'))).toEqual({
      method: 'GET',
      route: '/v1/streams/:stream',
    });
    expect(requestLogFields(request('/v1/Nguyễn-Thị-Hoà'))).toEqual({ method: 'GET', route: null });
  });

  it('keeps query names of the API and short numbers or event types, and masks everything else', () => {
    const url =
      '/v1/events?after=120&limit=100&type=vn.gov.lgsp.dossier.submitted.v1&province=0912345678' +
      '&token=lgsp_secret&Nguy%E1%BB%85n=1&subject=Nguy%E1%BB%85n%20Th%E1%BB%8B%20Ho%C3%A0';
    expect(requestLogFields(request(url, '/v1/events'))).toEqual({
      method: 'GET',
      route: '/v1/events',
      query: {
        after: '120',
        limit: '100',
        type: 'vn.gov.lgsp.dossier.submitted.v1',
        province: '[redacted]',
        subject: '[redacted]',
        '*': '1',
      },
    });
  });

  it('keeps pointer tokens the contracts define and masks member names chosen by the sender', () => {
    expect(isContractName('applicant')).toBe(true);
    expect(isContractName('expectedversion')).toBe(true);
    expect(isContractName('Nguyễn Thị Hoà')).toBe(false);
    expect(
      loggablePointers([
        { pointer: '/3/data/applicant/idNumber' },
        { pointer: '/data/Nguyễn Thị Hoà' },
        { pointer: '/data/fees/0/0912345678' },
        { pointer: '/after' },
      ]),
    ).toEqual(['/3/data/applicant/idNumber', '/data/*', '/data/fees/0/*', '/after']);
  });

  it('logs at most 20 pointers of a problem', () => {
    const errors = Array.from({ length: 1000 }, (_, i) => ({ pointer: `/${i}/id` }));
    expect(loggablePointers(errors)).toHaveLength(20);
  });
});
