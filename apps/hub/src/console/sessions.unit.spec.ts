import { ConsoleSessions, csrfMatches } from './sessions.js';

describe('console sessions', () => {
  it('finds a session by its cookie value until it has been idle too long, then drops it', () => {
    let now = 1_000_000;
    const sessions = new ConsoleSessions({ idleMs: 60_000, now: () => now });
    const s = sessions.create('tok');
    expect(sessions.get(s.id)?.token).toBe('tok');
    now += 59_000;
    expect(sessions.get(s.id)).toBeDefined(); // used: its end moves forward
    now += 59_000;
    expect(sessions.get(s.id)).toBeDefined();
    now += 60_000;
    expect(sessions.get(s.id)).toBeUndefined();
    expect(sessions.size).toBe(0);
  });

  it('refuses a forged id and a destroyed session', () => {
    const sessions = new ConsoleSessions({ idleMs: 60_000 });
    const s = sessions.create('tok');
    expect(sessions.get(`${s.id}x`)).toBeUndefined();
    expect(sessions.get('')).toBeUndefined();
    sessions.destroy(s.id);
    expect(sessions.get(s.id)).toBeUndefined();
  });

  it('keeps at most maxSessions, dropping the oldest', () => {
    const sessions = new ConsoleSessions({ idleMs: 60_000, maxSessions: 2 });
    const a = sessions.create('a');
    const b = sessions.create('b');
    const c = sessions.create('c');
    expect(sessions.get(a.id)).toBeUndefined();
    expect(sessions.get(b.id)?.token).toBe('b');
    expect(sessions.get(c.id)?.token).toBe('c');
  });

  it('matches a CSRF token only when it is exactly the session one', () => {
    const s = new ConsoleSessions({ idleMs: 1000 }).create('t');
    expect(csrfMatches(s.csrf, s.csrf)).toBe(true);
    expect(csrfMatches(s.csrf, undefined)).toBe(false);
    expect(csrfMatches(s.csrf, '')).toBe(false);
    expect(csrfMatches(s.csrf, `${s.csrf}a`)).toBe(false);
    expect(csrfMatches(s.csrf, s.csrf.slice(1) + 'A')).toBe(false);
    expect(csrfMatches(s.csrf, ['x'])).toBe(false);
  });
});
