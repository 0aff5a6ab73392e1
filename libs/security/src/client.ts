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
  /** When its current token was issued; present once it has been rotated (before: `createdAt`). */
  tokenIssuedAt?: string;
  /** When it was revoked: none of its tokens works since. */
  revokedAt?: string;
}

/** A token as the store knows it: whose it is, when it was issued, and when a rotated-out one stops. */
export interface TokenHolder {
  client: Client;
  /** RFC 3339. */
  issuedAt: string;
  /** The end of the overlap of a token replaced by a rotation; absent for the current token. */
  expiresAt?: string;
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

/** What the hub needs to know of the administrative units to check a client's scope. */
export interface UnitDirectory {
  hasProvince(code: string): boolean;
  provinceOfCommune(code: string): string | undefined;
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

/**
 * A token that was valid once and no longer is: older than `auth.tokenTtlSeconds`, past the overlap of
 * a rotation, or a JWT past its `exp`. The answer says so and nothing else.
 */
export class TokenExpiredError extends DomainError {
  constructor() {
    super('unauthenticated', 'the token has expired');
    this.name = 'TokenExpiredError';
  }
}

/**
 * Where clients live. Only the hashes of a client's tokens are ever given to a store: its current
 * token, and the one a rotation replaced until its overlap ends.
 */
export interface ClientStore {
  /** @throws ClientNameTakenError when a client of that name exists. */
  insert(client: Client, tokenHash: string): Promise<void>;
  /** The client whose current or rotated-out token has this hash (a revoked one included). */
  findByTokenHash(tokenHash: string): Promise<TokenHolder | undefined>;
  findByName(name: string): Promise<Client | undefined>;
  /** Every client, oldest first. */
  list(): Promise<Client[]>;
  /** Applies `changes` to the client with this id; resolves with it as stored, or undefined when there is none. */
  update(id: string, changes: ClientChanges): Promise<Client | undefined>;
  /**
   * Makes `tokenHash`, issued at `issuedAt`, the client's token; the one it replaces works until
   * `previousExpiresAt`, and an older one still in its overlap stops at once. Resolves with the client
   * as stored, or undefined when there is none of this id or it is revoked.
   */
  rotateToken(
    id: string,
    tokenHash: string,
    issuedAt: string,
    previousExpiresAt: string,
  ): Promise<Client | undefined>;
  /**
   * Marks the client revoked at `at` (a second revocation keeps the first time) and forgets its
   * rotated-out token. Resolves with the client as stored, or undefined when there is none of this id.
   */
  revoke(id: string, at: string): Promise<Client | undefined>;
}
