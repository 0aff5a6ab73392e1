/**
 * Roles:
 * - `admin`: everything, including creating clients;
 * - `operator`: the operator API and every read, no ingest;
 * - `province`: ingest and read the events of one province;
 * - `commune`: ingest and read the events of a list of communes.
 */
export type Role = 'admin' | 'operator' | 'province' | 'commune';
export const ROLES: readonly Role[] = ['admin', 'operator', 'province', 'commune'];

export interface Client {
  id: string;
  name: string;
  role: Role;
  /** For `province` clients; for `commune` clients, the province of their communes. */
  provinceCode?: string;
  /** For `commune` clients. */
  communeCodes: string[];
  /**
   * CloudEvents `source` values this client produces under, for transports without a token (the
   * Kafka ingest topic): an exact source, or a prefix ending in `*` (`/communes/21040/*`).
   */
  sources: string[];
  createdAt: string;
}

export interface NewClient {
  name: string;
  role: Role;
  provinceCode?: string;
  communeCodes: string[];
}

/** True when `source` is one of the client's bound sources (exact, or under a `prefix*`). */
export function boundTo(client: Client, source: string): boolean {
  return client.sources.some((s) => (s.endsWith('*') ? source.startsWith(s.slice(0, -1)) : s === source));
}

export interface ClientStore {
  insert(client: Client, tokenHash: string): void;
  findByTokenHash(tokenHash: string): Client | undefined;
  findByName(name: string): Client | undefined;
  list(): Client[];
}
