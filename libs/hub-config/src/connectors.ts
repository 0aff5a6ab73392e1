import { DEFAULT_PORTAL_DOSSIER_DEFAULTS, type CircuitBreakerOptions } from '#lgsp/connectors';
import { BOOLEAN, integer, positive, settingsObject } from './schema.js';
import { redactUrl, type Env } from './env.js';

/**
 * The connectors to the external systems. By default every one is enabled and points at the
 * simulators' default addresses (`npm run simulators`, or `simulators.embedded`), so the hub runs end
 * to end on a laptop. `LGSP_CONNECTORS` picks the enabled ones: `all`, `none`, or a comma-separated
 * list of `portal`, `one-stop-shop`, `civil-registry`, `payments`.
 */
export interface ConnectorsConfig {
  /**
   * The circuit breaker of each target (an explicit state machine: closed → open after
   * `failureThreshold` consecutive failures or `failureRatio` of at least `minimumCalls` calls in
   * `windowMs`; open → half-open after `coolDownMs`; half-open → closed after `halfOpenTrials`
   * successes, or open again on a failure). A connector's own `breaker` overrides these keys.
   * @defaultValue 5 failures, ratio 0.5 over 30 s with at least 10 calls, 30 s cool-down, 1 trial
   */
  breaker: BreakerSettings;
  /** The national portal: outbound sync (`connector.portal`) and capture of online submissions. */
  portal: ConnectorSettings & {
    /** @defaultValue "lgsp" (env `LGSP_PORTAL_USERNAME`) */
    username: string;
    /** Never logged. @defaultValue "lgsp" (env `LGSP_PORTAL_PASSWORD`) */
    password: string;
    /** Polls the portal for dossiers citizens submitted online and appends them as `dossier.submitted`. @defaultValue enabled, every 5000 ms, 100 per page */
    onlineCapture: { enabled: boolean; pollIntervalMs: number; pageSize: number };
    /** Login path; `/mapi/login` behind the adapter (XRD) in the field. @defaultValue "/api/login" */
    loginPath: string;
    /** Service path; `/mapi/g` behind the adapter (XRD) in the field. @defaultValue "/api/adapter" */
    servicePath: string;
    /** The calling agency's ID, sent as `madonvi` in every service call when set. @defaultValue null */
    agencyId: string | null;
    /** Sent as the `dstcode` header when set (the adapter's destination). @defaultValue null */
    dstCode: string | null;
    /** Procedure catalogue cache (`LayThuTuc`). @defaultValue 1 hour, 2000 procedures */
    catalogue: { ttlMs: number; maxEntries: number };
    /**
     * Values of the portal's mandatory fields when a dossier's events lack them: `applicantType`
     * (LoaiDoiTuong, "1" citizen), `hinhThuc` (HinhThuc, meaning not public: "0"), and the receiving
     * office's `email` and `phone`. Set `email` and `phone` per deployment: the defaults are the
     * connector's placeholders (a reserved `.invalid` domain) that keep existing deployments
     * syncing; null makes a dossier without the applicant's contact park instead.
     * @defaultValue the connector's DEFAULT_PORTAL_DOSSIER_DEFAULTS: "1", "0", "no-reply@lgsp-hub.invalid", "0000000000"
     */
    dossierDefaults: { applicantType: string; hinhThuc: string; email: string | null; phone: string | null };
  };
  /** The province's one-stop-shop: outbound sync (`connector.one-stop-shop`). */
  oneStopShop: ConnectorSettings & {
    /** Sent as `X-API-Key` when set; never logged. @defaultValue null (env `LGSP_ONE_STOP_SHOP_API_KEY`) */
    apiKey: string | null;
  };
  /** The civil registry: birth registrations out (`connector.civil-registry`), results polled back in. */
  civilRegistry: ConnectorSettings & {
    /** How often undecided registrations are polled. @defaultValue 2000 */
    pollIntervalMs: number;
    /**
     * Base URL of the interlinked-services portal (DVCLT): issues `maHoSoLT` and receives the status
     * reports. @defaultValue the built-in simulator, http://127.0.0.1:4105 (env `LGSP_DVCLT_URL`)
     */
    dvcltUrl: string;
    /** `LayKetQua`: dossiers asked per call. @defaultValue 50 */
    resultBatch: number;
    /**
     * DVCLT's status codes the hub reports, by step (which of 1–6 names which step is unconfirmed).
     * @defaultValue received 1, processing 2, supplementNeeded 3, sentToMinistry 7, done 4, returned 5, rejected 6
     */
    dvcltStatuses: Partial<Record<DvcltStep, number>>;
  };
  /** The payment platform: payments requested when a fee is due (`connector.payments`), callbacks and polls back in. */
  payments: ConnectorSettings & {
    /** `MaDoiTac`. @defaultValue "LGSP" */
    partnerCode: string;
    /** Shared secret of `MaXacThuc`; never logged. @defaultValue "lgsp-dev-secret", the simulator's (env `LGSP_PAYMENTS_SECRET`) */
    secret: string;
    /** How often pending transactions are queried (growing to 30× for those that stay pending). @defaultValue 2000 */
    pollIntervalMs: number;
    /** `Ip` of INIT: the hub's address as the platform knows it. @defaultValue "127.0.0.1" */
    ip: string;
    /**
     * The fixed values of every request (`PhienBan`, `LoaiHinhThanhToan`, `MaKenhThanhToan`, `MaThietBi`,
     * `NgonNgu`, `MaTienTe`, `MaNganHang`); those not set keep the integrators' values. @defaultValue {}
     */
    dialect: Partial<Record<PaymentDialectKey, string>>;
    /** The account fees are paid into, for the receipt (`TKThuHuong`, `MaNHThuHuong`, `TenTKThuHuong`). @defaultValue empty */
    beneficiary: { account: string; bankCode: string; holder: string };
  };
}

/** The fixed values of a payment request that a deployment may change. */
export const PAYMENT_DIALECT_KEYS = [
  'PhienBan',
  'LoaiHinhThanhToan',
  'MaKenhThanhToan',
  'MaThietBi',
  'NgonNgu',
  'MaTienTe',
  'MaNganHang',
] as const;
export type PaymentDialectKey = (typeof PAYMENT_DIALECT_KEYS)[number];

/** A connector's circuit breaker, as the connectors' own options describe it (one definition). */
export type BreakerSettings = CircuitBreakerOptions;

/** The steps of an interlinked dossier the civil-registry connector reports to DVCLT. */
export const DVCLT_STEPS = [
  'received',
  'processing',
  'supplementNeeded',
  'sentToMinistry',
  'done',
  'returned',
  'rejected',
] as const;
export type DvcltStep = (typeof DVCLT_STEPS)[number];

/** What every connector has. */
export interface ConnectorSettings {
  /** @defaultValue true (env `LGSP_CONNECTORS`) */
  enabled: boolean;
  /** Base URL of the system's API; the simulator's by default (env `LGSP_<SYSTEM>_URL`). */
  url: string;
  /** Attempts of a dossier's delivery before it parks (a data error parks at once). @defaultValue 6 */
  maxAttempts: number;
  /** Calls per second the system is sent at most. @defaultValue 20 */
  ratePerSecond: number;
  /** Overrides of `connectors.breaker` for this target. @defaultValue {} */
  breaker: Partial<BreakerSettings>;
}

export interface SimulatorsConfig {
  /**
   * Starts the four simulators inside the hub process, each on the port of its connector's URL, with
   * the payment platform's callbacks sent to this hub. For demos and laptops (`npm start`); never in
   * production. @defaultValue false (env `LGSP_SIMULATORS=embedded`)
   */
  embedded: boolean;
}

export const CONNECTOR_NAMES = ['portal', 'one-stop-shop', 'civil-registry', 'payments'] as const;

export const CONNECTORS_DEFAULTS: ConnectorsConfig = {
  breaker: {
    failureThreshold: 5,
    failureRatio: 0.5,
    windowMs: 30_000,
    minimumCalls: 10,
    coolDownMs: 30_000,
    halfOpenTrials: 1,
  },
  portal: {
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
    dossierDefaults: { ...DEFAULT_PORTAL_DOSSIER_DEFAULTS },
  },
  oneStopShop: {
    enabled: true,
    url: 'http://127.0.0.1:4102',
    apiKey: null,
    maxAttempts: 6,
    ratePerSecond: 20,
    breaker: {},
  },
  civilRegistry: {
    enabled: true,
    url: 'http://127.0.0.1:4103',
    maxAttempts: 6,
    ratePerSecond: 20,
    breaker: {},
    pollIntervalMs: 2000,
    dvcltUrl: 'http://127.0.0.1:4105',
    resultBatch: 50,
    dvcltStatuses: {},
  },
  payments: {
    enabled: true,
    url: 'http://127.0.0.1:4104',
    partnerCode: 'LGSP',
    secret: 'lgsp-dev-secret',
    maxAttempts: 6,
    ratePerSecond: 20,
    breaker: {},
    pollIntervalMs: 2000,
    ip: '127.0.0.1',
    dialect: {},
    beneficiary: { account: '', bankCode: '', holder: '' },
  },
};

export const SIMULATORS_DEFAULTS: SimulatorsConfig = { embedded: false };

const BREAKER_SCHEMA = settingsObject({
  failureThreshold: integer(1, 1000),
  failureRatio: positive(1),
  windowMs: integer(100, 3_600_000),
  minimumCalls: integer(1, 100_000),
  coolDownMs: integer(10, 3_600_000),
  halfOpenTrials: integer(1, 1000),
});

function connectorSchema(own: Record<string, unknown>) {
  return settingsObject({
    enabled: BOOLEAN,
    url: { type: 'string', pattern: '^https?://[^\\s]+$' },
    maxAttempts: integer(1, 100),
    ratePerSecond: positive(10_000),
    breaker: BREAKER_SCHEMA,
    ...own,
  });
}

export const CONNECTORS_SCHEMA = settingsObject({
  breaker: BREAKER_SCHEMA,
  portal: connectorSchema({
    username: { type: 'string', minLength: 1, maxLength: 200 },
    password: { type: 'string', minLength: 1, maxLength: 200 },
    onlineCapture: settingsObject({
      enabled: BOOLEAN,
      pollIntervalMs: integer(100, 3_600_000),
      pageSize: integer(1, 1000),
    }),
    loginPath: { type: 'string', pattern: '^/[^\\s]*$', maxLength: 500 },
    servicePath: { type: 'string', pattern: '^/[^\\s]*$', maxLength: 500 },
    agencyId: { type: ['string', 'null'], pattern: '^[0-9A-Z]+(\\.[0-9A-Z]+)*$', maxLength: 35 },
    dstCode: { type: ['string', 'null'], pattern: '^[A-Za-z0-9._:-]{1,100}$' },
    catalogue: settingsObject({ ttlMs: integer(1000, 86_400_000), maxEntries: integer(1, 1_000_000) }),
    dossierDefaults: settingsObject({
      applicantType: { type: 'string', enum: ['1', '2', '3', '4'] },
      hinhThuc: { type: 'string', pattern: '^\\d{1,10}$' },
      email: { type: ['string', 'null'], pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$', maxLength: 254 },
      phone: { type: ['string', 'null'], pattern: '^\\+?[0-9]{8,15}$' },
    }),
  }),
  oneStopShop: connectorSchema({ apiKey: { type: ['string', 'null'], minLength: 1, maxLength: 500 } }),
  civilRegistry: connectorSchema({
    pollIntervalMs: integer(100, 3_600_000),
    dvcltUrl: { type: 'string', pattern: '^https?://[^\\s]+$' },
    resultBatch: integer(1, 100),
    dvcltStatuses: settingsObject(Object.fromEntries(DVCLT_STEPS.map((k) => [k, integer(1, 99)]))),
  }),
  payments: connectorSchema({
    partnerCode: { type: 'string', minLength: 1, maxLength: 50 },
    secret: { type: 'string', minLength: 1, maxLength: 500 },
    pollIntervalMs: integer(100, 3_600_000),
    ip: { type: 'string', minLength: 1, maxLength: 100 },
    dialect: settingsObject(
      Object.fromEntries(
        PAYMENT_DIALECT_KEYS.map((k) => [k, { type: 'string', minLength: 1, maxLength: 50 }]),
      ),
    ),
    beneficiary: settingsObject({
      account: { type: 'string', maxLength: 50 },
      bankCode: { type: 'string', maxLength: 50 },
      holder: { type: 'string', maxLength: 200 },
    }),
  }),
});

export const SIMULATORS_SCHEMA = settingsObject({ embedded: BOOLEAN });

export function applyConnectorEnv(
  c: { connectors: ConnectorsConfig; simulators: SimulatorsConfig },
  env: Env,
  problems: string[],
): void {
  const { portal, oneStopShop, civilRegistry, payments } = c.connectors;
  const byName = { portal, 'one-stop-shop': oneStopShop, 'civil-registry': civilRegistry, payments };
  const list = env.LGSP_CONNECTORS?.trim();
  if (list) {
    const names =
      list === 'all' ? [...CONNECTOR_NAMES] : list === 'none' ? [] : list.split(',').map((n) => n.trim());
    const unknown = names.filter((n) => !(CONNECTOR_NAMES as readonly string[]).includes(n));
    if (unknown.length > 0)
      problems.push(
        `LGSP_CONNECTORS: unknown ${unknown.map((n) => `"${n}"`).join(', ')}; use all, none or a list of ${CONNECTOR_NAMES.join(', ')}`,
      );
    else for (const [name, settings] of Object.entries(byName)) settings.enabled = names.includes(name);
  }
  if (env.LGSP_PORTAL_ENABLED) {
    if (env.LGSP_PORTAL_ENABLED !== 'true' && env.LGSP_PORTAL_ENABLED !== 'false')
      problems.push(`LGSP_PORTAL_ENABLED: must be "true" or "false", got "${env.LGSP_PORTAL_ENABLED}"`);
    else portal.enabled = env.LGSP_PORTAL_ENABLED === 'true';
  }
  const urls: [string, ConnectorSettings][] = [
    ['LGSP_PORTAL_URL', portal],
    ['LGSP_ONE_STOP_SHOP_URL', oneStopShop],
    ['LGSP_CIVIL_REGISTRY_URL', civilRegistry],
    ['LGSP_PAYMENTS_URL', payments],
  ];
  for (const [name, settings] of urls) {
    const value = env[name];
    if (!value) continue;
    if (!/^https?:\/\/\S+$/.test(value))
      problems.push(`${name}: must be an http:// or https:// URL, got "${redactUrl(value)}"`);
    else settings.url = value;
  }
  const dvclt = env.LGSP_DVCLT_URL;
  if (dvclt) {
    if (!/^https?:\/\/\S+$/.test(dvclt))
      problems.push(`LGSP_DVCLT_URL: must be an http:// or https:// URL, got "${redactUrl(dvclt)}"`);
    else civilRegistry.dvcltUrl = dvclt;
  }
  if (env.LGSP_PORTAL_USERNAME) portal.username = env.LGSP_PORTAL_USERNAME;
  if (env.LGSP_PORTAL_PASSWORD) portal.password = env.LGSP_PORTAL_PASSWORD;
  if (env.LGSP_ONE_STOP_SHOP_API_KEY) oneStopShop.apiKey = env.LGSP_ONE_STOP_SHOP_API_KEY;
  if (env.LGSP_PAYMENTS_SECRET) payments.secret = env.LGSP_PAYMENTS_SECRET;
  if (env.LGSP_SIMULATORS) {
    if (env.LGSP_SIMULATORS !== 'embedded' && env.LGSP_SIMULATORS !== 'off')
      problems.push(`LGSP_SIMULATORS: must be "embedded" or "off", got "${env.LGSP_SIMULATORS}"`);
    else c.simulators.embedded = env.LGSP_SIMULATORS === 'embedded';
  }
}
