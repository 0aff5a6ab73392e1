import { DomainError } from '#lgsp/contracts';
import { assertHeaders } from './headers.js';

const HOST = ['Host', 'hub'];
const check = (rawHeaders: string[], httpVersion = '1.1'): void => assertHeaders({ rawHeaders, httpVersion });

function refusal(rawHeaders: string[], httpVersion = '1.1'): DomainError {
  try {
    check(rawHeaders, httpVersion);
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a DomainError');
}

describe('headers the hub reads as one value', () => {
  it('accepts each once, and repeats of headers whose values Node joins meaningfully', () => {
    expect(() =>
      check([
        ...HOST,
        'Content-Type',
        'application/json',
        'Authorization',
        'Bearer t',
        'ce-id',
        'a',
        'ce-source',
        '/s',
        'Accept',
        'application/json',
        'accept',
        'text/plain',
      ]),
    ).not.toThrow();
  });

  it('refuses a repeated ce-* header whatever its case, pointing at the attribute', () => {
    const error = refusal(['ce-id', 'a', ...HOST, 'CE-ID', 'b']);
    expect(error.code).toBe('malformed');
    expect(error.message).toContain('ce-id');
    expect(error.issues).toEqual([{ pointer: '/id', message: 'is repeated' }]);
  });

  it('refuses a repeated Content-Type, Authorization or Last-Event-ID, naming it', () => {
    for (const name of ['Content-Type', 'Authorization', 'Last-Event-ID', 'Host']) {
      const error = refusal([...HOST.filter(() => name !== 'Host'), name, 'one', name.toLowerCase(), 'two']);
      expect(error.message).toContain(name.toLowerCase());
    }
  });

  it('requires a Host header in HTTP/1.1 only', () => {
    expect(refusal(['Accept', '*/*']).message).toBe('an HTTP/1.1 request must have a Host header');
    expect(() => check(['Accept', '*/*'], '1.0')).not.toThrow();
  });
});
