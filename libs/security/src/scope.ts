import { DomainError, pointerToken, type CloudEvent, type Issue } from '#lgsp/contracts';
import type { Client } from './client.js';

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
 * A commune client may ingest only events whose `communeCode` is in its list; a province client
 * only events of its province. Throws `forbidden` naming each event out of scope.
 */
export function assertIngestScope(client: Client, events: readonly CloudEvent[], single: boolean): void {
  if (!canIngest(client)) {
    throw new DomainError('forbidden', `role ${client.role} may not ingest events`);
  }
  if (client.role === 'admin') return;
  const issues: Issue[] = [];
  events.forEach((event, i) => {
    const data = (event.data ?? {}) as { provinceCode?: unknown; communeCode?: unknown };
    const base = single ? '' : `/${pointerToken(i)}`;
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
