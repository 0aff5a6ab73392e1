import { startupSummary, type StartupFacts } from './startup-summary.js';

const facts = (over: Partial<StartupFacts> = {}): StartupFacts => ({
  url: 'http://127.0.0.1:3000',
  metricsUrl: 'http://127.0.0.1:3000/metrics',
  dataDir: '/srv/lgsp/data',
  store: 'sqlite',
  admin: { source: 'file', file: '/srv/lgsp/data/admin-token', created: true },
  connectors: ['portal', 'one-stop-shop'],
  simulators: true,
  cwd: '/srv/lgsp',
  ...over,
});

describe('start-up summary', () => {
  it('says where the hub listens, where the admin token is, and what to try next', () => {
    const text = startupSummary(facts());
    const lines = text.split('\n');
    expect(lines[0]).toBe('lgsp-hub is ready');
    expect(text).toContain('API          http://127.0.0.1:3000\n');
    expect(text).toContain('metrics      http://127.0.0.1:3000/metrics\n');
    expect(text).toContain('store        SQLite in ./data\n');
    expect(text).toContain('admin token  in ./data/admin-token (readable by this user only; created now)');
    expect(text).toContain('connectors   portal, one-stop-shop (to the built-in simulators)');
    expect(text).toContain('  curl http://127.0.0.1:3000/health/ready\n');
    expect(text).toContain(
      '  export LGSP_URL=http://127.0.0.1:3000 LGSP_TOKEN="$(cat ./data/admin-token)"\n',
    );
    expect(text).toContain('  npm run -s lgsp -- subscriptions\n');
    expect(lines.length).toBeLessThanOrEqual(12);
  });

  it('names LGSP_ADMIN_TOKEN, not its value, when the credential came from the environment', () => {
    const text = startupSummary(facts({ admin: { source: 'env' } }));
    expect(text).toContain('admin token  from LGSP_ADMIN_TOKEN');
    expect(text).toContain('LGSP_TOKEN="$LGSP_ADMIN_TOKEN"');
  });

  it('never shows a PostgreSQL URL (it may hold a password), and quotes an odd path for the shell', () => {
    const text = startupSummary(
      facts({
        store: 'postgres',
        admin: { source: 'file', file: "/home/an/lgsp data/it's/admin-token", created: false },
        connectors: [],
        simulators: false,
      }),
    );
    expect(text).toContain('store        PostgreSQL\n');
    expect(text).not.toMatch(/postgres:\/\//);
    expect(text).toContain(
      `admin token  in /home/an/lgsp data/it's/admin-token (readable by this user only)\n`,
    );
    expect(text).toContain(`LGSP_TOKEN="$(cat '/home/an/lgsp data/it'\\''s/admin-token')"`);
    expect(text).toContain('connectors   none\n');
  });
});

describe('start-up summary of a process with some of the roles', () => {
  it('names its roles, and says when the URL serves only the probes and the metrics', () => {
    expect(startupSummary(facts())).not.toContain('roles');
    expect(startupSummary(facts({ roles: ['api'] }))).toContain('\n  roles        api\n');
    expect(startupSummary(facts({ roles: ['relay', 'projection'] }))).toContain(
      '\n  roles        relay, projection (the URL serves probes and metrics only)\n',
    );
  });
});
