import { DomainError } from '#lgsp/contracts';
import { assertSingleHeaders } from './headers.js';

function refusal(rawHeaders: string[]): DomainError {
  try {
    assertSingleHeaders(rawHeaders);
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a DomainError');
}

describe('headers the hub reads as one value', () => {
  it('accepts each once, and repeats of headers whose values Node joins meaningfully', () => {
    expect(() =>
      assertSingleHeaders([
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
    const error = refusal(['ce-id', 'a', 'Host', 'x', 'CE-ID', 'b']);
    expect(error.code).toBe('malformed');
    expect(error.message).toContain('ce-id');
    expect(error.issues).toEqual([{ pointer: '/id', message: 'is repeated' }]);
  });

  it('refuses a repeated Content-Type, Authorization or Last-Event-ID, naming it', () => {
    for (const name of ['Content-Type', 'Authorization', 'Last-Event-ID']) {
      const error = refusal([name, 'one', name.toLowerCase(), 'two']);
      expect(error.message).toContain(name.toLowerCase());
    }
  });
});
