import { isAbsolute, relative } from 'node:path';

/** Where the admin credential of this start came from; never the credential itself. */
export type AdminCredentialSource =
  | { source: 'env' }
  | {
      source: 'file';
      /** The owner-only file in the data folder. */
      file: string;
      /** True when this start created it. */
      created: boolean;
    };

/** What a person starting the hub at a terminal needs to know (no secret in any of it). */
export interface StartupFacts {
  url: string;
  metricsUrl: string;
  dataDir: string;
  /** `sqlite`, or `postgres` (the URL is never shown: it may hold a password). */
  store: 'sqlite' | 'postgres';
  admin: AdminCredentialSource;
  /** The enabled connectors' targets. */
  connectors: readonly string[];
  /** True when the simulators run inside the hub. */
  simulators: boolean;
  /** The roles, when this process runs only some of them (`LGSP_ROLES`). */
  roles?: readonly string[];
  /** The working folder, for showing paths under it relatively. */
  cwd: string;
}

/** `path` relative to `cwd` when it is under it (`./data/admin-token`), else as given. */
function shown(path: string, cwd: string): string {
  if (!isAbsolute(path)) return path.startsWith('.') ? path : `./${path}`;
  const rel = relative(cwd, path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : `./${rel}`;
}

/** A path as one shell word. */
const quoted = (path: string): string =>
  /^[\w./:@+-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;

/**
 * The start-up summary written once the hub listens, on a terminal: where it listens, where the admin
 * token is (the file's path, or the variable that held it; never the token), and what to try next.
 */
export function startupSummary(f: StartupFacts): string {
  const token =
    f.admin.source === 'env'
      ? { where: 'from LGSP_ADMIN_TOKEN (the hub’s environment)', shell: '"$LGSP_ADMIN_TOKEN"' }
      : {
          where: `in ${shown(f.admin.file, f.cwd)} (readable by this user only${f.admin.created ? '; created now' : ''})`,
          shell: `"$(cat ${quoted(shown(f.admin.file, f.cwd))})"`,
        };
  const connectors =
    f.connectors.length === 0
      ? 'none'
      : `${f.connectors.join(', ')}${f.simulators ? ' (to the built-in simulators)' : ''}`;
  const store = f.store === 'sqlite' ? `SQLite in ${shown(f.dataDir, f.cwd)}` : 'PostgreSQL';
  return [
    'lgsp-hub is ready',
    `  API          ${f.url}`,
    `  metrics      ${f.metricsUrl}`,
    `  store        ${store}`,
    `  admin token  ${token.where}`,
    `  connectors   ${connectors}`,
    ...(f.roles === undefined
      ? []
      : [
          `  roles        ${f.roles.join(', ')}${f.roles.includes('api') ? '' : ' (the URL serves probes and metrics only)'}`,
        ]),
    'Try next:',
    `  curl ${f.url}/health/ready`,
    `  export LGSP_URL=${f.url} LGSP_TOKEN=${token.shell}`,
    '  npm run -s lgsp -- subscriptions',
    'JSON logs: LGSP_LOG_FORMAT=json; more detail: LGSP_LOG_LEVEL=debug',
  ].join('\n');
}
