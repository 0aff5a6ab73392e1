// The OpenAPI document as the hub serves it: valid for a third-party validator, public, rendered at
// /docs from the hub's own files, and naming exactly the routes the application registers.
import { compileErrors, validate } from '@readme/openapi-parser';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { chromium } from 'playwright-core';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import {
  UNDOCUMENTED_PREFIXES,
  documentedRoutes,
  type OpenApiDocument,
} from '../../apps/hub/src/http/openapi.js';
import { DOCS_CSP } from '../../apps/hub/src/http/api-docs.controller.js';
import { dossierCode, getJson, post, statusChanged, submitted } from '../support/events.js';
import {
  OFFICIAL_ADMIN_UNITS,
  eventually,
  REPO_ROOT,
  startHubProcess,
  tempDir,
  type HubProcess,
} from '../support/hub-process.js';

const execFileAsync = promisify(execFile);

// ajv and ajv-formats are CommonJS: the default import is the export itself or a namespace holding it.
const interopDefault = <T>(mod: T | { default: T }): T =>
  typeof mod === 'object' && mod !== null && 'default' in mod ? mod.default : (mod as T);
const Ajv2020 = interopDefault(Ajv2020Module as unknown as typeof Ajv2020Module.default);
const addFormats = interopDefault(addFormatsModule as unknown as typeof addFormatsModule.default);

/**
 * The routes of Fastify's `printRoutes({ commonPrefix: false })` tree, `GET /v1/streams/:stream` style:
 * each line is a node (`├── ` or `└── ` after four characters per level), its text the part of the path
 * below its parent, and its methods, when it is a route, in parentheses.
 */
export function routesOfTree(tree: string): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const node = /^((?:[│ ] {3})*)[└├]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!node) continue;
    stack.length = node[1]!.length / 4;
    stack.push(node[2]!);
    for (const method of node[3]?.split(', ') ?? []) routes.push(`${method} ${stack.join('')}`);
  }
  return routes;
}

/** A route with its parameters unnamed: `:stream` and `{stream}` alike become `{}`. */
const unnamed = (route: string): string => route.replace(/\{[^}]*\}|:[A-Za-z0-9_]+/g, '{}');

const undocumented = (route: string): boolean => {
  const path = route.split(' ')[1]!;
  return UNDOCUMENTED_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
};

/**
 * What the application and the document disagree on, one line each. Fastify's automatic HEAD of each
 * GET and the HTML pages (`UNDOCUMENTED_PREFIXES`) are left out.
 */
function coverageDifferences(registered: string[], document: OpenApiDocument): string[] {
  const served = new Set(registered.filter((r) => !r.startsWith('HEAD ') && !undocumented(r)).map(unnamed));
  const documented = new Set(documentedRoutes(document).map(unnamed));
  return [
    ...[...served].filter((r) => !documented.has(r)).map((r) => `served, not documented: ${r}`),
    ...[...documented].filter((r) => !served.has(r)).map((r) => `documented, not served: ${r}`),
  ];
}

let hub: HubProcess;

beforeAll(async () => {
  // The e2e webhook points at a plain-HTTP loopback address nobody listens on.
  hub = await startHubProcess({ env: { LGSP_WEBHOOKS_ALLOW_INSECURE: 'true' } });
});

afterAll(async () => {
  await hub?.stop();
});

/**
 * The tree of routes the hub's application registers, as Fastify prints it: the built hub started by
 * `startHub` (what `npm start` runs) in a process of its own, with the configuration of
 * `startHubProcess`, printed once it listens.
 */
async function printedRoutes(): Promise<string> {
  const dist = (path: string) => JSON.stringify(pathToFileURL(join(REPO_ROOT, 'dist', path)).href);
  const script = `
    const { loadConfig } = await import(${dist('libs/hub-config/src/index.js')});
    const { createLogger } = await import(${dist('libs/observability/src/index.js')});
    const { startHub } = await import(${dist('apps/hub/src/server.js')});
    const hub = await startHub(loadConfig(), createLogger({ level: 'silent' }));
    const tree = hub.app.getHttpAdapter().getInstance().printRoutes({ commonPrefix: false });
    await hub.close();
    (await import('node:fs')).writeFileSync(process.env.ROUTES_FILE, tree);
  `;
  // A file, not `--eval`: the projection's worker thread inherits the process's flags.
  const dir = tempDir('lgsp-openapi-');
  const file = join(dir, 'print-routes.mjs');
  writeFileSync(file, script);
  const routesFile = join(dir, 'routes.txt');
  await execFileAsync(process.execPath, [file], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      LGSP_DATA_DIR: join(dir, 'data'),
      LGSP_HTTP_PORT: '0',
      LGSP_HTTP_HOST: '127.0.0.1',
      LGSP_ADMIN_TOKEN: `admin-${Math.random().toString(36).slice(2)}`,
      LGSP_ADMIN_UNITS_FILE: OFFICIAL_ADMIN_UNITS,
      LGSP_CONNECTORS: 'none',
      ROUTES_FILE: routesFile,
    },
    timeout: 60_000,
  });
  return readFileSync(routesFile, 'utf8');
}

describe('the OpenAPI document of the hub', () => {
  let document: OpenApiDocument;

  beforeAll(async () => {
    const res = await fetch(`${hub.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    document = (await res.json()) as OpenApiDocument;
  });

  it('is served without a token and validates with @readme/openapi-parser', async () => {
    // validate() dereferences in place: it gets a copy.
    const result = await validate(structuredClone(document) as never);
    expect(result.valid ? '' : compileErrors(result)).toBe('');
    expect(result.specification).toBe('OpenAPI');
    expect(document['openapi']).toMatch(/^3\.1\./);
  });

  it('is the same for every caller: an admin token changes nothing', async () => {
    const asAdmin = await fetch(`${hub.url}/openapi.json`, {
      headers: { authorization: `Bearer ${hub.adminToken}` },
    });
    expect(await asAdmin.json()).toEqual(document);
    // A wrong token is no reason to refuse a public document either.
    const wrong = await fetch(`${hub.url}/openapi.json`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(200);
    expect(JSON.stringify(document)).not.toContain(hub.adminToken);
  });

  it('is rendered at /docs from files the hub serves, under a self-only policy', async () => {
    const page = await fetch(`${hub.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(DOCS_CSP);
    expect(DOCS_CSP).toContain("script-src 'self'");
    expect(DOCS_CSP).toContain("style-src 'self'");
    expect(DOCS_CSP).not.toContain('unsafe-inline');
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map(([, url]) => url!);
    expect(assets.sort()).toEqual([
      '/docs/assets/docs.js',
      '/docs/assets/swagger-ui-bundle.js',
      '/docs/assets/swagger-ui.css',
    ]);
    // No inline script or style: the policy would block them.
    expect(html).not.toMatch(/<script>|<style|style="/);
    for (const asset of assets) {
      const res = await fetch(`${hub.url}${asset}`);
      expect([asset, res.status]).toEqual([asset, 200]);
      expect(res.headers.get('content-type')).toBe(
        asset.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8',
      );
      expect(res.headers.get('content-security-policy')).toBe(DOCS_CSP);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    const initializer = await (await fetch(`${hub.url}/docs/assets/docs.js`)).text();
    expect(initializer).toContain("url: '/openapi.json'");
    expect(initializer).toContain('validatorUrl: null');
  });

  it('renders the reference in a browser, with no request leaving the hub and no policy violation', async () => {
    // The project's own script: installs Debian's chromium when it is missing, fails when it cannot.
    execFileSync(join(REPO_ROOT, 'scripts/install-chromium.sh'), { stdio: 'inherit' });
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    });
    try {
      const page = await browser.newPage();
      const elsewhere: string[] = [];
      const problems: string[] = [];
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith(`${hub.url}/`)) return route.continue();
        elsewhere.push(url);
        return route.abort();
      });
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(`${hub.url}/docs`);
      await page.locator('.swagger-ui .info .title').filter({ hasText: 'lgsp-hub HTTP API' }).waitFor();
      const operations = documentedRoutes(document).length;
      await page
        .locator('.opblock')
        .nth(operations - 1)
        .waitFor();
      expect(await page.locator('.opblock').count()).toBe(operations);
      expect(await page.locator('.opblock-summary-path[data-path="/v1/streams/{stream}"]').count()).toBe(1);
      // Swagger UI's stylesheet applied: an operation's summary line is a flex row, not a plain block.
      type Styles = { getComputedStyle(element: unknown): { display: string } };
      const display = await page
        .locator('.opblock-summary')
        .first()
        .evaluate((e) => (globalThis as unknown as Styles).getComputedStyle(e).display);
      expect(display).toBe('flex');
      // Swagger UI's own warnings about the document (an unsupported dialect, a bad reference).
      expect(await page.locator('.errors-wrapper').count()).toBe(0);
      expect(elsewhere).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it("describes the hub's answers: ingest, the reads, and a problem", async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
    addFormats(ajv);
    ajv.addSchema({ ...document, $id: 'urn:lgsp:openapi' });
    const escape = (s: string) => s.replaceAll('~', '~0').replaceAll('/', '~1');
    /** Checks `body` against the schema the document gives the answer `status` of `method path`. */
    const conforms = (
      method: string,
      path: string,
      status: number,
      body: unknown,
      type = 'application/json',
    ) => {
      const label = `${method} ${path} ${status}`;
      const op = (document.paths[path] as Record<string, { responses: Record<string, { $ref?: string }> }>)[
        method
      ]!;
      const response = op.responses[String(status)]!;
      const pointer = response.$ref
        ? `${response.$ref.slice(1)}/content/${escape(type)}/schema`
        : `/paths/${escape(path)}/${method}/responses/${status}/content/${escape(type)}/schema`;
      const validateAnswer = ajv.compile({ $ref: `urn:lgsp:openapi#${pointer}` });
      expect([label, validateAnswer(body), validateAnswer.errors ?? []]).toEqual([label, true, []]);
    };
    const code = dossierCode();
    const ingested = await post(
      hub.url,
      hub.adminToken,
      [submitted(code), statusChanged(code, 2)],
      'application/cloudevents-batch+json',
    );
    expect(ingested.status).toBe(201);
    conforms('post', '/v1/events', 201, ingested.body);
    const again = await post(
      hub.url,
      hub.adminToken,
      submitted(code, { id: (ingested.body as { results: { id: string }[] }).results[0]!.id }),
    );
    expect(again.status).toBe(200);
    conforms('post', '/v1/events', 200, again.body);
    const invalid = await post(hub.url, hub.adminToken, statusChanged(code, 99));
    expect(invalid.status).toBe(422);
    expect(invalid.contentType).toMatch(/^application\/problem\+json/);
    conforms('post', '/v1/events', 422, invalid.body, 'application/problem+json');

    const inVietnamese = await fetch(`${hub.url}/v1/dossiers/no-such-dossier`, {
      headers: { authorization: `Bearer ${hub.adminToken}`, 'accept-language': 'vi' },
    });
    expect(inVietnamese.status).toBe(404);
    expect(inVietnamese.headers.get('content-language')).toBe('vi');
    expect(inVietnamese.headers.get('vary')).toContain('Accept-Language');
    conforms('get', '/v1/dossiers/{dossierCode}', 404, await inVietnamese.json(), 'application/problem+json');

    const stream = await getJson(`${hub.url}/v1/streams/dossier-${code}`, hub.adminToken);
    expect(stream.status).toBe(200);
    conforms('get', '/v1/streams/{stream}', 200, stream.body);
    const log = await getJson(`${hub.url}/v1/events?limit=10`, hub.adminToken);
    conforms('get', '/v1/events', 200, log.body);
    const dossier = await eventually(async () => {
      const r = await getJson(`${hub.url}/v1/dossiers/${code}`, hub.adminToken);
      return r.status === 200 && r.body['status'] === 2 ? r.body : undefined;
    });
    conforms('get', '/v1/dossiers/{dossierCode}', 200, dossier);
    const missing = await fetch(`${hub.url}/v1/dossiers/no-such-dossier`, {
      headers: { authorization: `Bearer ${hub.adminToken}` },
    });
    expect(missing.status).toBe(404);
    conforms('get', '/v1/dossiers/{dossierCode}', 404, await missing.json(), 'application/problem+json');
    const live = await getJson(`${hub.url}/health/live`, hub.adminToken);
    conforms('get', '/health/live', 200, live.body);

    const send = async (method: string, path: string, body: unknown) => {
      const res = await fetch(`${hub.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const client = await send('POST', '/v1/admin/clients', {
      name: 'openapi-e2e-province',
      role: 'province',
      province: '51',
      rateLimit: { ratePerSecond: 50, burst: 100 },
    });
    expect(client.status).toBe(201);
    conforms('post', '/v1/admin/clients', 201, client.body);
    conforms(
      'get',
      '/v1/admin/clients',
      200,
      (await getJson(`${hub.url}/v1/admin/clients`, hub.adminToken)).body,
    );
    const refused = await send('POST', '/v1/admin/clients', { name: 'x', role: 'mayor' });
    expect(refused.status).toBe(422);
    conforms('post', '/v1/admin/clients', 422, refused.body, 'application/problem+json');

    const webhook = await send('POST', '/v1/webhooks', {
      url: 'http://127.0.0.1:9/openapi-e2e',
      description: 'openapi e2e',
      filter: { types: ['vn.gov.lgsp.dossier.submitted.v1'], provinces: ['51'] },
    });
    expect(webhook.status).toBe(201);
    conforms('post', '/v1/webhooks', 201, webhook.body);
    const id = (webhook.body['webhook'] as { id: string }).id;
    conforms('get', '/v1/webhooks', 200, (await getJson(`${hub.url}/v1/webhooks`, hub.adminToken)).body);
    conforms(
      'get',
      '/v1/webhooks/{id}',
      200,
      (await getJson(`${hub.url}/v1/webhooks/${id}`, hub.adminToken)).body,
    );
    const disabled = await send('POST', `/v1/webhooks/${id}/disable`, { reason: 'openapi e2e' });
    conforms('post', '/v1/webhooks/{id}/disable', 200, disabled.body);
    const redelivered = await send('POST', `/v1/webhooks/${id}/redeliver`, { fromPosition: 1 });
    expect(redelivered.status).toBe(202);
    conforms('post', '/v1/webhooks/{id}/redeliver', 202, redelivered.body);

    // The operator reads, answered or refused as this hub is configured: each against its documented answer.
    const reads: [string, string][] = [
      ['/v1/admin/subscriptions', '/v1/admin/subscriptions'],
      ['/v1/admin/audit?limit=5', '/v1/admin/audit'],
      ['/v1/admin/audit/verify', '/v1/admin/audit/verify'],
      ['/v1/admin/checkpoints', '/v1/admin/checkpoints'],
      ['/v1/admin/reconciliations', '/v1/admin/reconciliations'],
      ['/v1/admin/reconciliations/no-such-run', '/v1/admin/reconciliations/{id}'],
      ['/v1/admin/replays', '/v1/admin/replays'],
      ['/v1/admin/replays/no-such-replay', '/v1/admin/replays/{id}'],
      ['/v1/admin/erasures', '/v1/admin/erasures'],
      ['/v1/admin/parked', '/v1/admin/parked'],
      ['/v1/admin/parked/portal/no-such-dossier/history', '/v1/admin/parked/{target}/{dossier}/history'],
      [`/v1/webhooks/${id}/attempts`, '/v1/webhooks/{id}/attempts'],
      [
        '/v1/admin/privacy/affected?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z',
        '/v1/admin/privacy/affected',
      ],
      ['/health/ready', '/health/ready'],
    ];
    for (const [url, path] of reads) {
      const res = await getJson(`${hub.url}${url}`, hub.adminToken);
      const label = `GET ${url}`;
      expect([label, res.status < 500 || path === '/health/ready']).toEqual([label, true]);
      conforms(
        'get',
        path,
        res.status,
        res.body,
        res.status >= 400 ? 'application/problem+json' : 'application/json',
      );
    }
  });

  it('leaves the API behind its tokens', async () => {
    expect((await fetch(`${hub.url}/v1/admin/clients`)).status).toBe(401);
  });
});

describe('route coverage: the document against the routes the application registers', () => {
  let registered: string[];
  let document: OpenApiDocument;

  beforeAll(async () => {
    registered = routesOfTree(await printedRoutes());
    document = (await (await fetch(`${hub.url}/openapi.json`)).json()) as OpenApiDocument;
  });

  it('documents every route the application serves, and serves every route it documents', () => {
    expect(registered).toContain('POST /v1/events');
    expect(registered).toContain('GET /v1/streams/:stream');
    expect(coverageDifferences(registered, document)).toEqual([]);
  });

  it('leaves out only the HTML pages, by prefix', () => {
    const left = registered.filter((r) => !r.startsWith('HEAD ') && undocumented(r));
    expect(left).toContain('GET /console');
    expect(left).toContain('GET /docs');
    expect(new Set(left.map((r) => `/${r.split(' ')[1]!.split('/')[1]}`))).toEqual(
      new Set(UNDOCUMENTED_PREFIXES),
    );
  });

  it('fails both ways: a route missing from the document, and one the application does not serve', () => {
    const changed = structuredClone(document);
    delete changed.paths['/v1/admin/audit/verify'];
    changed.paths['/v1/admin/nothing/{id}'] = { post: {} };
    expect(coverageDifferences(registered, changed)).toEqual([
      'served, not documented: GET /v1/admin/audit/verify',
      'documented, not served: POST /v1/admin/nothing/{}',
    ]);
  });

  it('reads the tree Fastify prints', () => {
    const tree = [
      '└── / (GET, HEAD)',
      '    ├── v1/events (GET, HEAD, POST)',
      '    ├── v1/admin/parked (GET, HEAD)',
      '    │   └── /:target/:dossier/retry (POST)',
      '    └── health/',
      '        ├── live (GET)',
      '        └── ready (GET)',
    ].join('\n');
    expect(routesOfTree(tree)).toEqual([
      'GET /',
      'HEAD /',
      'GET /v1/events',
      'HEAD /v1/events',
      'POST /v1/events',
      'GET /v1/admin/parked',
      'HEAD /v1/admin/parked',
      'POST /v1/admin/parked/:target/:dossier/retry',
      'GET /health/live',
      'GET /health/ready',
    ]);
  });
});
