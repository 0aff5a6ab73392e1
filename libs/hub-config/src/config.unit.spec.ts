import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DEFAULT_CONFIG, loadConfig } from './index.js';

const file = (content: string): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'lgsp-cfg-')), 'hub.json');
  writeFileSync(path, content);
  return path;
};

const problemsOf = (env: Record<string, string>): readonly string[] => {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration', () => {
  it('uses the documented defaults', () => {
    const c = loadConfig({});
    expect(c.http.port).toBe(3000);
    expect(c.store).toBe('sqlite');
    expect(c.dataDir).toBe(join(process.cwd(), 'data'));
    expect(c.ingest.maxBatchEvents).toBe(DEFAULT_CONFIG.ingest.maxBatchEvents);
  });

  it('reads tracing from the OTEL_* variables: off unless asked for, OTLP/HTTP JSON only', () => {
    expect(loadConfig({}).tracing).toMatchObject({
      exporter: 'none',
      serviceName: 'lgsp-hub',
      loadApi: true,
    });
    expect(
      loadConfig({
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_BSP_MAX_QUEUE_SIZE: '4096',
      }).tracing,
    ).toMatchObject({
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
      batch: { scheduledDelayMs: 100, exportTimeoutMs: 30_000, maxQueueSize: 4096, maxExportBatchSize: 512 },
    });
    expect(
      problemsOf({
        OTEL_TRACES_SAMPLER: 'sometimes',
        OTEL_TRACES_SAMPLER_ARG: '2',
        OTEL_BSP_MAX_QUEUE_SIZE: '10',
      }),
    ).toEqual([
      expect.stringContaining('OTEL_TRACES_SAMPLER: must be one of'),
      'OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1',
      'tracing.batch: maxExportBatchSize must not exceed maxQueueSize (OTEL_BSP_*)',
    ]);
    expect(
      loadConfig({
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_SERVICE_NAME: 'hub-51',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      }).tracing,
    ).toMatchObject({ exporter: 'otlp', serviceName: 'hub-51', loadApi: true });
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' }).tracing.exporter).toBe(
      'none',
    );
    expect(loadConfig({ LGSP_TRACING_LOAD_API: 'false' }).tracing.loadApi).toBe(false);
    expect(
      problemsOf({
        OTEL_TRACES_EXPORTER: 'zipkin',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
        LGSP_TRACING_LOAD_API: 'maybe',
      }),
    ).toEqual([
      'OTEL_TRACES_EXPORTER: "zipkin" is not supported; use otlp or none',
      'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc" is not supported; the hub exports http/json',
      'LGSP_TRACING_LOAD_API: must be true or false',
    ]);
    expect(problemsOf({ OTEL_TRACES_EXPORTER: 'otlp', LGSP_TRACING_LOAD_API: 'false' })).toEqual([
      expect.stringContaining('an exporter needs the OpenTelemetry API'),
    ]);
    const path = file(JSON.stringify({ tracing: { exporter: 'otlp', serviceName: 'from-file' } }));
    expect(loadConfig({ LGSP_CONFIG: path }).tracing).toMatchObject({
      exporter: 'otlp',
      serviceName: 'from-file',
    });
  });

  it('reads the file and lets the environment override it', () => {
    const path = file(JSON.stringify({ http: { port: 4000 }, ingest: { maxBatchEvents: 50 } }));
    const c = loadConfig({ LGSP_CONFIG: path, LGSP_HTTP_PORT: '5000', LGSP_DATA_DIR: '/tmp/x' });
    expect(c.http.port).toBe(5000);
    expect(c.http.host).toBe('0.0.0.0');
    expect(c.ingest.maxBatchEvents).toBe(50);
    expect(c.dataDir).toBe('/tmp/x');
  });

  it('reads the ingest code check from the file and LGSP_INGEST_CODE_CHECK, and refuses a bad pattern', () => {
    expect(loadConfig({}).ingest.codeCheck.mode).toBe('off');
    const path = file(
      JSON.stringify({ ingest: { codeCheck: { mode: 'warn', agencyPattern: '^H[0-9]{2}$' } } }),
    );
    const c = loadConfig({ LGSP_CONFIG: path });
    expect(c.ingest.codeCheck).toEqual({
      ...DEFAULT_CONFIG.ingest.codeCheck,
      mode: 'warn',
      agencyPattern: '^H[0-9]{2}$',
    });
    expect(loadConfig({ LGSP_CONFIG: path, LGSP_INGEST_CODE_CHECK: 'refuse' }).ingest.codeCheck.mode).toBe(
      'refuse',
    );
    expect(problemsOf({ LGSP_INGEST_CODE_CHECK: 'loud' })).toEqual([
      'LGSP_INGEST_CODE_CHECK: must be one of off, warn, refuse',
    ]);
    const bad = file(JSON.stringify({ ingest: { codeCheck: { dossierCodePattern: '([' } } }));
    expect(problemsOf({ LGSP_CONFIG: bad })).toEqual([
      expect.stringMatching(/^ingest\.codeCheck\.dossierCodePattern: not a regular expression/),
    ]);
  });

  it('names the path and the reason of each bad value', () => {
    const path = file(JSON.stringify({ http: { port: 'x' }, log: { level: 'loud' }, extra: true }));
    const problems = problemsOf({ LGSP_CONFIG: path });
    expect(problems).toEqual(
      expect.arrayContaining([
        `${path}: /http/port must be integer`,
        `${path}: /log/level must be equal to one of the allowed values`,
        `${path}: /extra is not a known setting`,
      ]),
    );
    expect(problemsOf({ LGSP_HTTP_PORT: '70000' })).toEqual([
      'LGSP_HTTP_PORT: "70000" must be an integer from 0 to 65535',
    ]);
    expect(problemsOf({ LGSP_CONFIG: file('{ nope') })[0]).toMatch(/not valid JSON/);
    expect(problemsOf({ LGSP_KAFKA_BROKERS: 'localhost' })).toEqual([
      'LGSP_KAFKA_BROKERS: localhost must be host:port',
    ]);
  });

  it('reads the connection limits, rate limits and metrics settings, refusing bad ones by path', () => {
    const c = loadConfig({});
    expect(c.http).toMatchObject({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 60_000,
      keepAliveTimeoutMs: 72_000,
      maxConnectionsPerAddress: 1024,
    });
    expect(c.rateLimit).toEqual({
      client: { ratePerSecond: 1000, burst: 2000 },
      operator: { ratePerSecond: 20_000, burst: 40_000 },
      address: { ratePerSecond: 100, burst: 200 },
      metrics: { ratePerSecond: 10, burst: 20 },
      refusalDelayMs: 1000,
      refusalsHeld: 10_000,
    });
    expect(c.metrics).toEqual({ token: null, port: null, host: null });

    const path = file(
      JSON.stringify({
        http: { headersTimeoutMs: 2000, requestTimeoutMs: 0 },
        rateLimit: { client: { ratePerSecond: 0.5, burst: 3 } },
        metrics: { token: 'from-the-file-0123456789', host: '127.0.0.1' },
      }),
    );
    const fromFile = loadConfig({ LGSP_CONFIG: path, LGSP_METRICS_PORT: '9464' });
    expect(fromFile.http).toMatchObject({ headersTimeoutMs: 2000, requestTimeoutMs: 0 });
    expect(fromFile.rateLimit.client).toEqual({ ratePerSecond: 0.5, burst: 3 });
    expect(fromFile.rateLimit.address).toEqual({ ratePerSecond: 100, burst: 200 });
    expect(fromFile.metrics).toEqual({ token: 'from-the-file-0123456789', port: 9464, host: '127.0.0.1' });
    expect(loadConfig({ LGSP_CONFIG: path, LGSP_METRICS_TOKEN: 'from-the-environment' }).metrics.token).toBe(
      'from-the-environment',
    );

    const bad = file(
      JSON.stringify({
        http: { headersTimeoutMs: 20_000, requestTimeoutMs: 5000, maxConnectionsPerAddress: -1 },
        rateLimit: { address: { ratePerSecond: 0, burst: 1.5 } },
        metrics: { token: 'short' },
      }),
    );
    expect(problemsOf({ LGSP_CONFIG: bad })).toEqual([
      `${bad}: /http/maxConnectionsPerAddress must be >= 0`,
      `${bad}: /rateLimit/address/ratePerSecond must be > 0`,
      `${bad}: /rateLimit/address/burst must be integer`,
      `${bad}: /metrics/token must NOT have fewer than 16 characters`,
    ]);
    const timeouts = file(JSON.stringify({ http: { headersTimeoutMs: 20_000, requestTimeoutMs: 5000 } }));
    expect(problemsOf({ LGSP_CONFIG: timeouts })).toEqual([
      'http.headersTimeoutMs (20000) must not exceed http.requestTimeoutMs (5000)',
    ]);
    const secret = 'has a space in it, too';
    const problems = problemsOf({
      LGSP_METRICS_TOKEN: secret,
      LGSP_HTTP_PORT: '9000',
      LGSP_METRICS_PORT: '9000',
    });
    expect(problems).toEqual([
      'LGSP_METRICS_TOKEN: 16 to 500 printable ASCII characters, no spaces',
      'metrics.port (9000) must differ from http.port',
    ]);
    expect(problems.join('\n')).not.toContain(secret);
  });

  it('reads the Kafka replay settings, with defaults, and refuses bad ones by path', () => {
    expect(loadConfig({}).kafka.replay).toEqual({ ratePerSecond: 1000, batchSize: 200 });
    const path = file(JSON.stringify({ kafka: { replay: { ratePerSecond: 50 } } }));
    expect(loadConfig({ LGSP_CONFIG: path }).kafka.replay).toEqual({ ratePerSecond: 50, batchSize: 200 });
    const bad = file(JSON.stringify({ kafka: { replay: { ratePerSecond: 0, batchSize: 0 } } }));
    expect(problemsOf({ LGSP_CONFIG: bad })).toEqual(
      expect.arrayContaining([
        `${bad}: /kafka/replay/ratePerSecond must be > 0`,
        `${bad}: /kafka/replay/batchSize must be >= 1`,
      ]),
    );
  });

  it('takes a PostgreSQL store, its schema, instance id and lease TTL', () => {
    const c = loadConfig({
      LGSP_STORE: 'postgres://hub:s3cret@db/lgsp',
      LGSP_POSTGRES_SCHEMA: 'hub_51',
      LGSP_INSTANCE_ID: 'hub-a',
      LGSP_LEASE_TTL_MS: '3000',
    });
    expect(c.store).toBe('postgres://hub:s3cret@db/lgsp');
    expect(c.postgres).toEqual({ schema: 'hub_51', poolSize: 10 });
    expect(c.instanceId).toBe('hub-a');
    expect(c.subscriptions.leaseTtlMs).toBe(3000);
  });

  it('refuses a store it does not know, hiding the password', () => {
    const [problem] = problemsOf({ LGSP_STORE: 'mysql://hub:s3cret@db/lgsp' });
    expect(problem).toMatch(/must be "sqlite" or a postgres:\/\/ URL/);
    expect(problem).not.toContain('s3cret');
    expect(problemsOf({ LGSP_POSTGRES_SCHEMA: 'Bad-Name' })[0]).toMatch(/LGSP_POSTGRES_SCHEMA/);
    expect(problemsOf({ LGSP_LEASE_TTL_MS: '10' })[0]).toMatch(/LGSP_LEASE_TTL_MS/);
  });

  it('enables every connector by default, each pointed at its simulator', () => {
    const c = loadConfig({});
    expect(c.connectors.portal).toEqual({
      enabled: true,
      url: 'http://127.0.0.1:4101',
      username: 'lgsp',
      password: 'lgsp',
      maxAttempts: 6,
      ratePerSecond: 20,
      breaker: {},
      onlineCapture: { enabled: true, pollIntervalMs: 5000, pageSize: 100 },
      loginPath: '/api/login',
      servicePath: '/api/adapter',
      agencyId: null,
      dstCode: null,
      catalogue: { ttlMs: 3_600_000, maxEntries: 2000 },
      dossierDefaults: {
        applicantType: '1',
        hinhThuc: '0',
        email: 'no-reply@lgsp-hub.invalid',
        phone: '0000000000',
      },
    });
    expect(c.connectors.oneStopShop).toMatchObject({
      enabled: true,
      url: 'http://127.0.0.1:4102',
      apiKey: null,
    });
    expect(c.connectors.civilRegistry).toMatchObject({ enabled: true, url: 'http://127.0.0.1:4103' });
    expect(c.connectors.payments).toMatchObject({
      enabled: true,
      url: 'http://127.0.0.1:4104',
      secret: 'lgsp-dev-secret',
    });
    expect(c.connectors.breaker).toEqual({
      failureThreshold: 5,
      failureRatio: 0.5,
      windowMs: 30_000,
      minimumCalls: 10,
      coolDownMs: 30_000,
      halfOpenTrials: 1,
    });
    expect(c.simulators.embedded).toBe(false);
    expect(c.replay).toEqual({ confirmAbove: 1000, chunkSize: 100, pollMs: 500 });
  });

  it('reads log.format (auto by default) from the file and LGSP_LOG_FORMAT, refusing other values', () => {
    expect(loadConfig({}).log).toEqual({ level: 'info', format: 'auto' });
    expect(loadConfig({ LGSP_LOG_FORMAT: 'json' }).log.format).toBe('json');
    const path = file(JSON.stringify({ log: { format: 'pretty' } }));
    expect(loadConfig({ LGSP_CONFIG: path }).log.format).toBe('pretty');
    expect(loadConfig({ LGSP_CONFIG: path, LGSP_LOG_FORMAT: 'json' }).log.format).toBe('json');
    expect(problemsOf({ LGSP_LOG_FORMAT: 'colour' })).toEqual([
      'LGSP_LOG_FORMAT: must be one of auto, json, pretty',
    ]);
    const bad = file(JSON.stringify({ log: { format: 'xml' } }));
    expect(problemsOf({ LGSP_CONFIG: bad })[0]).toMatch(
      /\/log\/format must be equal to one of the allowed values/,
    );
  });

  it('picks the enabled connectors from LGSP_CONNECTORS and refuses unknown names', () => {
    const enabled = (env: Record<string, string>) => {
      const { portal, oneStopShop, civilRegistry, payments } = loadConfig(env).connectors;
      return [portal, oneStopShop, civilRegistry, payments].map((s) => s.enabled);
    };
    expect(enabled({ LGSP_CONNECTORS: 'none' })).toEqual([false, false, false, false]);
    expect(enabled({ LGSP_CONNECTORS: 'all' })).toEqual([true, true, true, true]);
    expect(enabled({ LGSP_CONNECTORS: 'payments, one-stop-shop' })).toEqual([false, true, false, true]);
    // LGSP_PORTAL_ENABLED still works, and wins over the list for the portal.
    expect(enabled({ LGSP_CONNECTORS: 'none', LGSP_PORTAL_ENABLED: 'true' })).toEqual([
      true,
      false,
      false,
      false,
    ]);
    expect(problemsOf({ LGSP_CONNECTORS: 'portal,ledger' })[0]).toMatch(
      /LGSP_CONNECTORS: unknown "ledger"; use all, none or a list of portal, one-stop-shop, civil-registry, payments/,
    );
    expect(problemsOf({ LGSP_SIMULATORS: 'yes' })[0]).toMatch(/LGSP_SIMULATORS: must be "embedded" or "off"/);
    expect(loadConfig({ LGSP_SIMULATORS: 'embedded' }).simulators.embedded).toBe(true);
  });

  it('reads the payment platform dialect settings, keeping the integrators’ values by default', () => {
    expect(loadConfig({}).connectors.payments).toMatchObject({
      ip: '127.0.0.1',
      dialect: {},
      beneficiary: { account: '', bankCode: '', holder: '' },
    });
    const path = file(
      JSON.stringify({
        connectors: {
          payments: {
            ip: '10.0.0.7',
            dialect: { PhienBan: '1.0.7' },
            beneficiary: { account: '3711', bankCode: 'VCB', holder: 'UBND xã' },
          },
        },
      }),
    );
    expect(loadConfig({ LGSP_CONFIG: path }).connectors.payments).toMatchObject({
      ip: '10.0.0.7',
      dialect: { PhienBan: '1.0.7' },
      beneficiary: { account: '3711', bankCode: 'VCB', holder: 'UBND xã' },
    });
    const bad = file(JSON.stringify({ connectors: { payments: { dialect: { PhienBan: '', Other: 'x' } } } }));
    expect(problemsOf({ LGSP_CONFIG: bad })).toEqual(
      expect.arrayContaining([
        expect.stringContaining('/connectors/payments/dialect/Other is not a known setting'),
        expect.stringContaining('/connectors/payments/dialect/PhienBan'),
      ]),
    );
  });

  it('reads the breaker for every target and the overrides of one, refusing bad values by path', () => {
    const path = file(
      JSON.stringify({
        connectors: { breaker: { coolDownMs: 5000 }, payments: { breaker: { failureThreshold: 2 } } },
      }),
    );
    const c = loadConfig({
      LGSP_CONFIG: path,
      LGSP_PAYMENTS_SECRET: 'k',
      LGSP_CIVIL_REGISTRY_URL: 'http://mj/api',
    });
    expect(c.connectors.breaker.coolDownMs).toBe(5000);
    expect(c.connectors.breaker.failureThreshold).toBe(5);
    expect(c.connectors.payments.breaker).toEqual({ failureThreshold: 2 });
    expect(c.connectors.payments.secret).toBe('k');
    expect(c.connectors.civilRegistry.url).toBe('http://mj/api');
    const bad = file(JSON.stringify({ connectors: { oneStopShop: { breaker: { failureRatio: 2, x: 1 } } } }));
    expect(problemsOf({ LGSP_CONFIG: bad })).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/\/connectors\/oneStopShop\/breaker\/failureRatio must be <= 1/),
        expect.stringMatching(/\/connectors\/oneStopShop\/breaker\/x is not a known setting/),
      ]),
    );
  });

  it('points the civil registry’s DVCLT at the built-in simulator by default; file and LGSP_DVCLT_URL move it', () => {
    expect(loadConfig({}).connectors.civilRegistry).toMatchObject({
      dvcltUrl: 'http://127.0.0.1:4105',
      resultBatch: 50,
    });
    const path = file(
      JSON.stringify({ connectors: { civilRegistry: { dvcltUrl: 'http://dvclt.local', resultBatch: 20 } } }),
    );
    expect(loadConfig({ LGSP_CONFIG: path }).connectors.civilRegistry).toMatchObject({
      dvcltUrl: 'http://dvclt.local',
      resultBatch: 20,
    });
    expect(
      loadConfig({ LGSP_DVCLT_URL: 'https://lienthong.example/api' }).connectors.civilRegistry.dvcltUrl,
    ).toBe('https://lienthong.example/api');
    expect(problemsOf({ LGSP_DVCLT_URL: 'lienthong' })[0]).toMatch(/LGSP_DVCLT_URL: must be an http/);
    const codes = file(JSON.stringify({ connectors: { civilRegistry: { dvcltStatuses: { received: 8 } } } }));
    expect(loadConfig({ LGSP_CONFIG: codes }).connectors.civilRegistry.dvcltStatuses).toEqual({
      received: 8,
    });
    expect(loadConfig({}).connectors.civilRegistry.dvcltStatuses).toEqual({});
    const bad = file(
      JSON.stringify({
        connectors: {
          civilRegistry: { dvcltUrl: 'x', resultBatch: 101, dvcltStatuses: { received: 0, handed: 5 } },
        },
      }),
    );
    expect(problemsOf({ LGSP_CONFIG: bad })).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/\/connectors\/civilRegistry\/dvcltUrl/),
        expect.stringMatching(/\/connectors\/civilRegistry\/resultBatch/),
        expect.stringMatching(/\/connectors\/civilRegistry\/dvcltStatuses\/received/),
        expect.stringMatching(/\/connectors\/civilRegistry\/dvcltStatuses\/handed is not a known setting/),
      ]),
    );
  });

  it('reads the portal connector from the file and the environment', () => {
    const path = file(JSON.stringify({ connectors: { portal: { maxAttempts: 3, ratePerSecond: 5 } } }));
    const c = loadConfig({
      LGSP_CONFIG: path,
      LGSP_PORTAL_ENABLED: 'true',
      LGSP_PORTAL_URL: 'https://portal.example/api',
      LGSP_PORTAL_USERNAME: 'hub51',
      LGSP_PORTAL_PASSWORD: 's3cret',
    });
    expect(c.connectors.portal).toMatchObject({
      enabled: true,
      url: 'https://portal.example/api',
      username: 'hub51',
      password: 's3cret',
      maxAttempts: 3,
      ratePerSecond: 5,
    });
  });

  it('refuses bad portal settings with their path', () => {
    const path = file(
      JSON.stringify({ connectors: { portal: { maxAttempts: 0, url: 'ftp://x', extra: 1 } } }),
    );
    const problems = problemsOf({ LGSP_CONFIG: path });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/\/connectors\/portal\/maxAttempts must be >= 1/),
        expect.stringMatching(/\/connectors\/portal\/url must match/),
        expect.stringMatching(/\/connectors\/portal\/extra is not a known setting/),
      ]),
    );
    expect(problemsOf({ LGSP_PORTAL_ENABLED: 'yes' })[0]).toMatch(
      /LGSP_PORTAL_ENABLED: must be "true" or "false"/,
    );
    const [url] = problemsOf({ LGSP_PORTAL_URL: 'portal:s3cret@x' });
    expect(url).toMatch(/LGSP_PORTAL_URL/);
  });

  it('reads the portal dialect settings (adapter paths, madonvi, dstcode, catalogue, defaults), refusing bad ones', () => {
    const portal = {
      loginPath: '/mapi/login',
      servicePath: '/mapi/g',
      agencyId: '000.00.51.H56',
      dstCode: 'VN:GOV:000.00.00.G22:DVCQG',
      catalogue: { ttlMs: 600_000, maxEntries: 50 },
      dossierDefaults: { applicantType: '2', hinhThuc: '1', email: 'motcua@binhson.gov.vn', phone: null },
    };
    const c = loadConfig({ LGSP_CONFIG: file(JSON.stringify({ connectors: { portal } })) });
    expect(c.connectors.portal).toMatchObject(portal);
    const bad = {
      loginPath: 'mapi/login',
      agencyId: 'ubnd xa',
      dstCode: 'a b',
      catalogue: { ttlMs: 10 },
      dossierDefaults: { applicantType: '5', email: 'nobody', phone: '12' },
    };
    const problems = problemsOf({ LGSP_CONFIG: file(JSON.stringify({ connectors: { portal: bad } })) });
    for (const path of [
      'loginPath',
      'agencyId',
      'dstCode',
      'catalogue/ttlMs',
      'dossierDefaults/applicantType',
      'dossierDefaults/email',
      'dossierDefaults/phone',
    ]) {
      expect(problems).toEqual(
        expect.arrayContaining([expect.stringContaining(`/connectors/portal/${path}`)]),
      );
    }
  });

  it('reads the token settings and JWT logins, filling the JWT defaults, and refuses bad ones by path', () => {
    expect(loadConfig({}).auth).toEqual({ tokenTtlSeconds: null, rotationOverlapSeconds: 86_400, jwt: null });
    const jwt = {
      issuer: 'https://sso.quangngai.gov.vn/realms/lgsp',
      audience: 'lgsp-hub',
      jwksUrl: 'https://sso.quangngai.gov.vn/realms/lgsp/protocol/openid-connect/certs',
      roleClaim: 'realm_access.roles',
      roleMap: { 'lgsp-operator': 'operator', 'so-tt-tt': 'province' },
    };
    const path = file(
      JSON.stringify({ auth: { tokenTtlSeconds: 7_776_000, rotationOverlapSeconds: 60, jwt } }),
    );
    expect(loadConfig({ LGSP_CONFIG: path }).auth).toEqual({
      tokenTtlSeconds: 7_776_000,
      rotationOverlapSeconds: 60,
      jwt: {
        ...jwt,
        algorithms: ['RS256', 'ES256'],
        provinceClaim: 'province_code',
        communesClaim: 'commune_codes',
        clockToleranceSeconds: 5,
      },
    });

    const bad = file(
      JSON.stringify({
        auth: {
          tokenTtlSeconds: 0,
          rotationOverlapSeconds: -1,
          jwt: { issuer: 'x', jwksUrl: 'x', algorithms: ['HS256'], roleMap: { a: 'root' } },
        },
      }),
    );
    const problems = problemsOf({ LGSP_CONFIG: bad });
    for (const where of [
      '/auth/tokenTtlSeconds',
      '/auth/rotationOverlapSeconds',
      '/auth/jwt must have required property',
      '/auth/jwt/algorithms/0',
      '/auth/jwt/roleMap/a',
    ])
      expect(problems).toEqual(expect.arrayContaining([expect.stringContaining(where)]));

    const plain = file(JSON.stringify({ auth: { jwt: { ...jwt, jwksUrl: 'http://sso.example/certs' } } }));
    expect(problemsOf({ LGSP_CONFIG: plain })).toEqual([
      'auth.jwt.jwksUrl: must be https (http only to localhost, 127.0.0.1 or [::1])',
    ]);
    const local = file(JSON.stringify({ auth: { jwt: { ...jwt, jwksUrl: 'http://127.0.0.1:8443/jwks' } } }));
    expect(loadConfig({ LGSP_CONFIG: local }).auth.jwt?.jwksUrl).toBe('http://127.0.0.1:8443/jwks');
  });

  it('turns JWT logins on from LGSP_JWT_* alone, and lets them override the file', () => {
    const env = {
      LGSP_JWT_ISSUER: 'https://idp.example',
      LGSP_JWT_AUDIENCE: 'lgsp-hub, lgsp-api',
      LGSP_JWT_JWKS_URL: 'https://idp.example/jwks',
      LGSP_JWT_ROLE_MAP: 'ops=operator, province-51=province',
    };
    expect(loadConfig(env).auth.jwt).toEqual({
      issuer: 'https://idp.example',
      audience: ['lgsp-hub', 'lgsp-api'],
      jwksUrl: 'https://idp.example/jwks',
      algorithms: ['RS256', 'ES256'],
      roleClaim: 'roles',
      roleMap: { ops: 'operator', 'province-51': 'province' },
      provinceClaim: 'province_code',
      communesClaim: 'commune_codes',
      clockToleranceSeconds: 5,
    });
    const path = file(
      JSON.stringify({
        auth: { jwt: { issuer: 'a', audience: 'b', jwksUrl: 'https://c/jwks', roleClaim: 'groups' } },
      }),
    );
    expect(loadConfig({ LGSP_CONFIG: path, LGSP_JWT_AUDIENCE: 'hub' }).auth.jwt).toMatchObject({
      issuer: 'a',
      audience: 'hub',
      roleClaim: 'groups',
    });
    expect(problemsOf({ LGSP_JWT_ISSUER: 'https://idp.example' })).toEqual([
      'LGSP_JWT_ISSUER, LGSP_JWT_AUDIENCE and LGSP_JWT_JWKS_URL: give all three, or set auth.jwt in the file',
    ]);
    expect(problemsOf({ ...env, LGSP_JWT_ROLE_MAP: 'ops=root' })).toEqual([
      'LGSP_JWT_ROLE_MAP: "ops=root" must be idpRole=hubRole, hubRole one of admin, operator, province, commune',
    ]);
  });
});
