import { DomainError, type Issue } from '#lgsp/contracts';
import type { RateLimit } from './rate-limit.js';

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
  /** This client's request rate limit; absent: the hub's default (`rateLimit.client`). */
  rateLimit?: RateLimit;
  createdAt: string;
}

/** What an admin may change on an existing client. */
export interface ClientChanges {
  /** A limit of its own, or null for the hub's default. */
  rateLimit?: RateLimit | null;
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

/** The issue reported for a name another client already has. */
export function nameTakenIssue(name: string): Issue {
  return { pointer: '/name', message: `a client named ${name} exists` };
}

/**
 * A store refused a client because another one took its name first (two hub processes creating the
 * same name at once): the same refusal the service gives when it sees the name taken.
 */
export class ClientNameTakenError extends DomainError {
  constructor(name: string, cause?: unknown) {
    super('invalid', 'the client is not valid', [nameTakenIssue(name)], { cause });
    this.name = 'ClientNameTakenError';
  }
}

/** Where clients live. Only the hash of a client's token is ever given to a store. */
export interface ClientStore {
  /** @throws ClientNameTakenError when a client of that name exists. */
  insert(client: Client, tokenHash: string): Promise<void>;
  findByTokenHash(tokenHash: string): Promise<Client | undefined>;
  findByName(name: string): Promise<Client | undefined>;
  /** Every client, oldest first. */
  list(): Promise<Client[]>;
  /** Applies `changes` to the client with this id; resolves with it as stored, or undefined when there is none. */
  update(id: string, changes: ClientChanges): Promise<Client | undefined>;
}
