import type { ArgumentMetadata } from '@nestjs/common';
import { DomainError } from '#lgsp/contracts';
import { IntQuery, ListQuery, OneQuery, text } from './query.js';

const query = (name: string): ArgumentMetadata => ({ type: 'query', data: name });

/** The problem a pipe answers a value with, or the value it passes on. */
const outcome = (run: () => unknown): unknown => {
  try {
    return run();
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    return { code: e.code, detail: e.message, errors: e.issues };
  }
};

describe('query-parameter pipes', () => {
  it('IntQuery: the fallback when absent or empty, the integer within bounds, else malformed with the pointer', () => {
    const limit = new IntQuery(100, 1, 1000);
    expect(limit.transform(undefined, query('limit'))).toBe(100);
    expect(limit.transform('', query('limit'))).toBe(100);
    expect(limit.transform('250', query('limit'))).toBe(250);
    for (const bad of ['0', '1001', '-1', '1.5', '1e2', ['1', '2']])
      expect(outcome(() => limit.transform(bad, query('limit')))).toEqual({
        code: 'malformed',
        detail: 'query parameter limit must be an integer from 1 to 1000',
        errors: [{ pointer: '/limit', message: 'must be an integer from 1 to 1000' }],
      });
    // A custom decorator has no name of its own: the pipe is given one.
    expect(outcome(() => new IntQuery(0, 0, 9, 'after').transform('x', { type: 'custom' }))).toMatchObject({
      detail: 'query parameter after must be an integer from 0 to 9',
    });
  });

  it('ListQuery: comma-separated or repeated, each item checked', () => {
    const provinces = new ListQuery(/^[0-9]{2}$/);
    expect(provinces.transform(undefined, query('province'))).toBeUndefined();
    expect(provinces.transform('51, 79', query('province'))).toEqual(['51', '79']);
    expect(provinces.transform(['51', '79'], query('province'))).toEqual(['51', '79']);
    expect(outcome(() => provinces.transform('51,7x', query('province')))).toEqual({
      code: 'malformed',
      detail: 'query parameter province has invalid values: 7x',
      errors: [{ pointer: '/province', message: 'invalid: 7x' }],
    });
  });

  it('OneQuery: one value that the rule accepts; repeated or refused is malformed with its own words', () => {
    const after = new OneQuery(text(1, 5), 'query parameter after must be one id', 'must be one id');
    expect(after.transform(undefined, query('after'))).toBeUndefined();
    expect(after.transform('r-1', query('after'))).toBe('r-1');
    for (const bad of ['', 'r-123456', ['a', 'b']])
      expect(outcome(() => after.transform(bad, query('after')))).toEqual({
        code: 'malformed',
        detail: 'query parameter after must be one id',
        errors: [{ pointer: '/after', message: 'must be one id' }],
      });
  });
});
