import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, HUB_ROLES, loadConfig, parseRoles } from './index.js';

const PG = { LGSP_STORE: 'postgres://lgsp@127.0.0.1:5432/test' };

const problemsOf = (env: Record<string, string>): readonly string[] => {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
};

describe('roles of a hub process', () => {
  it('runs every role by default, and for LGSP_ROLES=all', () => {
    expect(loadConfig({}).roles).toEqual(['api', 'relay', 'projection', 'connectors', 'webhooks', 'replay']);
    expect(loadConfig({ ...PG, LGSP_ROLES: 'all' }).roles).toEqual([...HUB_ROLES]);
    expect(loadConfig({ LGSP_ROLES: ' ' }).roles).toEqual([...HUB_ROLES]);
  });

  it('reads a comma-separated list, in the documented order, spaces and repeats ignored', () => {
    expect(loadConfig({ ...PG, LGSP_ROLES: 'api' }).roles).toEqual(['api']);
    expect(loadConfig({ ...PG, LGSP_ROLES: 'replay, projection,relay,relay' }).roles).toEqual([
      'relay',
      'projection',
      'replay',
    ]);
    // The six named one by one are every role: allowed on SQLite too.
    expect(loadConfig({ LGSP_ROLES: 'replay,webhooks,connectors,projection,relay,api' }).roles).toEqual([
      ...HUB_ROLES,
    ]);
  });

  it('refuses an unknown role, naming it and the valid roles', () => {
    expect(problemsOf({ ...PG, LGSP_ROLES: 'api,worker' })).toEqual([
      'LGSP_ROLES: unknown role "worker"; use all or a comma-separated list of api, relay, projection, connectors, webhooks, replay',
    ]);
    expect(problemsOf({ ...PG, LGSP_ROLES: 'api,' })[0]).toMatch(/unknown role ""/);
    expect(parseRoles('all,api')).toEqual({
      problem:
        'unknown role "all"; use all or a comma-separated list of api, relay, projection, connectors, webhooks, replay',
    });
  });

  it('refuses a subset of the roles on the embedded SQLite store', () => {
    expect(problemsOf({ LGSP_ROLES: 'api' })).toEqual([
      'roles (api): the embedded SQLite store runs every role in one process; unset LGSP_ROLES (or set it to all), ' +
        'or share a PostgreSQL store (LGSP_STORE=postgres://…) between the processes',
    ]);
  });

  it('reads `roles` from the configuration file, checked against the schema', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lgsp-cfg-')), 'hub.json');
    writeFileSync(path, JSON.stringify({ roles: ['projection', 'relay'] }));
    expect(loadConfig({ ...PG, LGSP_CONFIG: path }).roles).toEqual(['relay', 'projection']);
    // The variable wins over the file.
    expect(loadConfig({ ...PG, LGSP_CONFIG: path, LGSP_ROLES: 'api' }).roles).toEqual(['api']);
    writeFileSync(path, JSON.stringify({ roles: ['api', 'ingest'] }));
    expect(problemsOf({ ...PG, LGSP_CONFIG: path })[0]).toMatch(
      /hub\.json: \/roles\/1 must be equal to one of the allowed values/,
    );
    writeFileSync(path, JSON.stringify({ roles: [] }));
    expect(problemsOf({ ...PG, LGSP_CONFIG: path })[0]).toMatch(/\/roles must NOT have fewer than 1 items/);
  });
});
