import type { Env } from './env.js';

/**
 * What a hub process runs (README, "Distributed deployment"). One image, each process given its roles:
 * - `api`: HTTP ingest, the reads, the operator API, the console, the payment callbacks, and the Kafka
 *   ingest consumer (ingest scales with the API replicas; the consumer group shares the partitions);
 * - `relay`: the Kafka relay;
 * - `projection`: the dossier projection, the signed checkpoints and the retention of personal data;
 * - `connectors`: the outbound connectors and their inbound capture (pollers);
 * - `webhooks`: the webhook delivery;
 * - `replay`: the replay executor.
 */
export const HUB_ROLES = ['api', 'relay', 'projection', 'connectors', 'webhooks', 'replay'] as const;

export type HubRole = (typeof HUB_ROLES)[number];

/** The JSON schema of `roles` in the configuration file. */
export const ROLES_SCHEMA = {
  type: 'array',
  minItems: 1,
  uniqueItems: true,
  items: { enum: [...HUB_ROLES] },
} as const;

const isRole = (name: string): name is HubRole => (HUB_ROLES as readonly string[]).includes(name);

/**
 * Parses a list of roles: `all`, or role names separated by commas.
 * @returns the roles in {@link HUB_ROLES} order, or the problem naming the unknown ones and the valid roles.
 */
export function parseRoles(list: string): { roles: HubRole[] } | { problem: string } {
  const text = list.trim();
  if (text === 'all') return { roles: [...HUB_ROLES] };
  const names = text.split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !isRole(n));
  if (unknown.length > 0)
    return {
      problem: `unknown role ${unknown.map((n) => `"${n}"`).join(', ')}; use all or a comma-separated list of ${HUB_ROLES.join(', ')}`,
    };
  return { roles: HUB_ROLES.filter((r) => names.includes(r)) };
}

/** `LGSP_ROLES` over the file's `roles`. */
export function applyRolesEnv(c: { roles: HubRole[] }, env: Env, problems: string[]): void {
  const list = env.LGSP_ROLES;
  if (list === undefined || list.trim() === '') return;
  const parsed = parseRoles(list);
  if ('problem' in parsed) problems.push(`LGSP_ROLES: ${parsed.problem}`);
  else c.roles = parsed.roles;
}

/** Every role, in one process: what the embedded store allows. */
export const runsAllRoles = (roles: readonly HubRole[]): boolean => HUB_ROLES.every((r) => roles.includes(r));

/**
 * Roles are split between processes that share a PostgreSQL store. The embedded SQLite store is files
 * of one process (a single writer, the projection in its worker thread), so it runs every role.
 */
export function checkRoles(c: { roles: HubRole[]; store: string }, problems: string[]): void {
  if (c.store === 'sqlite' && !runsAllRoles(c.roles))
    problems.push(
      `roles (${c.roles.join(',')}): the embedded SQLite store runs every role in one process; ` +
        'unset LGSP_ROLES (or set it to all), or share a PostgreSQL store (LGSP_STORE=postgres://…) between the processes',
    );
}
