import { DomainError, pointerToken, type CloudEvent, type Issue } from '#lgsp/contracts';
import { boundTo, type Client } from './client.js';

/** What a client may read: everything, or events of these provinces / communes. */
export type ReadScope =
  { all: true } | { all: false; provinceCodes: readonly string[]; communeCodes: readonly string[] };

export function canIngest(client: Client): boolean {
  return client.role === 'province' || client.role === 'commune' || client.role === 'admin';
}

export function readScope(client: Client): ReadScope {
  switch (client.role) {
    case 'admin':
    case 'operator':
      return { all: true };
    case 'province':
      return {
        all: false,
        provinceCodes: client.provinceCode ? [client.provinceCode] : [],
        communeCodes: [],
      };
    case 'commune':
      return { all: false, provinceCodes: [], communeCodes: client.communeCodes };
  }
}

/** True when the scope covers an event of this province and commune. */
export function inReadScope(scope: ReadScope, provinceCode?: string, communeCode?: string): boolean {
  if (scope.all) return true;
  if (provinceCode !== undefined && scope.provinceCodes.includes(provinceCode)) return true;
  return communeCode !== undefined && scope.communeCodes.includes(communeCode);
}

/**
 * A commune client may ingest only events whose `communeCode` is in its list, a province client only
 * events of its province, and each only under the sources it may use (see {@link sourceAllowed}).
 * Throws `forbidden` naming each event out of scope. These checks depend on the request alone, never on
 * what the store holds, so they answer alike whether or not a dossier exists.
 */
export function assertIngestScope(
  client: Client,
  events: readonly CloudEvent[],
  single: boolean,
  units: CommuneDirectory,
): void {
  if (!canIngest(client)) {
    throw new DomainError('forbidden', `role ${client.role} may not ingest events`);
  }
  if (client.role === 'admin') return;
  const issues: Issue[] = [];
  events.forEach((event, i) => {
    const data = (event.data ?? {}) as { provinceCode?: unknown; communeCode?: unknown };
    const base = single ? '' : `/${pointerToken(i)}`;
    if (!sourceAllowed(client, String(event.source), units)) {
      issues.push({
        pointer: `${base}/source`,
        message: `client ${client.name} may send only under its sources: ${describeSources(client)}`,
      });
    }
    if (client.role === 'province' && data.provinceCode !== client.provinceCode) {
      issues.push({
        pointer: `${base}/data/provinceCode`,
        message: `client ${client.name} may ingest only for province ${client.provinceCode}`,
      });
    }
    if (client.role === 'commune' && !client.communeCodes.includes(String(data.communeCode))) {
      issues.push({
        pointer: `${base}/data/communeCode`,
        message: `client ${client.name} may ingest only for communes ${client.communeCodes.join(', ')}`,
      });
    }
  });
  if (issues.length > 0) {
    throw new DomainError('forbidden', `${issues.length} event(s) outside the client's scope`, issues);
  }
}

/** Whom a dossier stream belongs to: the commune (and province) of its first event, until a transfer moves it. */
export interface StreamOwner {
  provinceCode: string;
  communeCode: string;
}

/** True when the client may write to, and read, a stream of this owner. */
export function coversOwner(client: Client, owner: StreamOwner): boolean {
  switch (client.role) {
    case 'admin':
      return true;
    case 'operator':
      return false;
    case 'province':
      return client.provinceCode === owner.provinceCode;
    case 'commune':
      return client.communeCodes.includes(owner.communeCode);
  }
}

/** True when a read scope covers a stream of this owner (operators read everything). */
export function readScopeCovers(scope: ReadScope, owner: StreamOwner): boolean {
  return inReadScope(scope, owner.provinceCode, owner.communeCode);
}

/** What a source check needs of the administrative units. */
export interface CommuneDirectory {
  provinceOfCommune(communeCode: string): string | undefined;
}

const COMMUNE_SOURCE = /^\/communes\/([0-9]{5})(?:\/|$)/;
const PROVINCE_SOURCE = /^\/provinces\/([0-9]{2})(?:\/|$)/;

/**
 * True when the client may send events under this CloudEvents `source`, so that no client can claim
 * another's (`source`, `id`) for deduplication. A client with bound sources (`Client.sources`) may use
 * only those. Otherwise: a commune client the sources under its communes (`/communes/21040`,
 * `/communes/21040/…`); a province client those under its province (`/provinces/51…`) and under every
 * commune of it. Admins (the hub's own capture included) may use any source.
 */
export function sourceAllowed(client: Client, source: string, units: CommuneDirectory): boolean {
  if (client.role === 'admin') return true;
  if (client.sources.length > 0) return boundTo(client, source);
  if (client.role === 'commune') {
    const commune = COMMUNE_SOURCE.exec(source)?.[1];
    return commune !== undefined && client.communeCodes.includes(commune);
  }
  if (client.role === 'province' && client.provinceCode !== undefined) {
    if (PROVINCE_SOURCE.exec(source)?.[1] === client.provinceCode) return true;
    const commune = COMMUNE_SOURCE.exec(source)?.[1];
    return commune !== undefined && units.provinceOfCommune(commune) === client.provinceCode;
  }
  return false;
}

/** The sources a client may use, as a reader would write them (for error messages to that client). */
export function describeSources(client: Client): string {
  if (client.sources.length > 0) return client.sources.join(', ');
  if (client.role === 'commune') return client.communeCodes.map((c) => `/communes/${c}/…`).join(', ');
  if (client.role === 'province')
    return `/provinces/${client.provinceCode}/… or /communes/<a commune of ${client.provinceCode}>/…`;
  return 'none';
}
