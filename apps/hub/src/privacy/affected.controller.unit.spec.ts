import { DomainError } from '#lgsp/contracts';
import { affectedRequest } from './affected.controller.js';

const WINDOW = { from: '2026-03-01T00:00:00+07:00', to: '2026-03-02T00:00:00+07:00' };

function pointers(query: Record<string, unknown>): string[] {
  try {
    affectedRequest(query);
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('invalid');
    return (err as DomainError).issues.map((i) => i.pointer);
  }
  throw new Error('accepted');
}

describe('the query of who was affected', () => {
  it('reads the window, the codes (deduplicated), the target and the page', () => {
    expect(
      affectedRequest({
        ...WINDOW,
        province: '51, 79,51',
        commune: '21040',
        target: 'portal',
        limit: '2',
        after: 'Xk3_-',
      }),
    ).toEqual({
      window: { from: Date.parse('2026-02-28T17:00:00Z'), to: Date.parse('2026-03-01T17:00:00Z') },
      provinces: ['51', '79'],
      communes: ['21040'],
      target: 'portal',
      limit: 2,
      after: 'Xk3_-',
    });
    expect(affectedRequest({ ...WINDOW, province: '' })).toEqual({
      window: expect.any(Object),
      limit: 100,
    });
  });

  it('names every bad parameter at once', () => {
    expect(
      pointers({
        from: 'soon',
        province: '5',
        commune: '2104',
        target: '',
        limit: '1001',
        after: 'a b',
        dossier: 'x',
      }).sort(),
    ).toEqual(['/after', '/commune', '/dossier', '/from', '/limit', '/province', '/target', '/to']);
  });

  it('refuses a parameter given twice', () => {
    expect(pointers({ ...WINDOW, from: [WINDOW.from, WINDOW.from] })).toEqual(['/from', '/from']);
    expect(pointers({ ...WINDOW, target: ['portal', 'kafka'] })).toEqual(['/target']);
  });

  it('bounds the codes and the page', () => {
    const many = Array.from({ length: 101 }, (_, i) => String(10 + (i % 90)).padStart(2, '0'));
    expect(affectedRequest({ ...WINDOW, province: many.slice(0, 90).join(',') }).provinces).toHaveLength(90);
    const distinct = Array.from({ length: 101 }, (_, i) => String(10000 + i));
    expect(pointers({ ...WINDOW, commune: distinct.join(',') })).toEqual(['/commune']);
    expect(pointers({ ...WINDOW, limit: '0' })).toEqual(['/limit']);
    expect(affectedRequest({ ...WINDOW, limit: '1000' }).limit).toBe(1000);
  });
});
