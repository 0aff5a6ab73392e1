import { toSqlite } from './index.js';

describe('toSqlite', () => {
  it('turns $1, $2… used once each and in order into plain ? (cheaper to bind)', () => {
    expect(toSqlite('INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)')).toBe(
      'INSERT INTO t (a, b) VALUES (?, ?), (?, ?)',
    );
    expect(toSqlite('SELECT 1')).toBe('SELECT 1');
  });

  it('numbers the parameters when one is repeated or they are out of order', () => {
    expect(toSqlite('SELECT * FROM t WHERE a = $1 OR b = $1')).toBe('SELECT * FROM t WHERE a = ?1 OR b = ?1');
    expect(toSqlite('UPDATE t SET a = $2 WHERE id = $1')).toBe('UPDATE t SET a = ?2 WHERE id = ?1');
    expect(toSqlite('SELECT $1, $3')).toBe('SELECT ?1, ?3');
  });
});
