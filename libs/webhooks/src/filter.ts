import { typeVersion } from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';
import type { WebhookFilter } from './model.js';

/**
 * True when the event is one the webhook receives: each list of its filter that is given matches (a type
 * matches every version of its family), and
 * a webhook a province owns only ever receives that province's events, whatever its filter says.
 */
export function matchesFilter(
  webhook: { filter: WebhookFilter; province?: string },
  e: Pick<StoredEvent, 'type' | 'provinceCode' | 'communeCode'>,
): boolean {
  const { types, provinces, communes } = webhook.filter;
  if (webhook.province !== undefined && e.provinceCode !== webhook.province) return false;
  if (types && !types.includes(e.type) && !types.some((t) => sameFamily(t, e.type))) return false;
  if (provinces && (e.provinceCode === undefined || !provinces.includes(e.provinceCode))) return false;
  if (communes && (e.communeCode === undefined || !communes.includes(e.communeCode))) return false;
  return true;
}

/** Two versions of one event family (`dossier.submitted.v1` and `.v2`). */
function sameFamily(a: string, b: string): boolean {
  const family = typeVersion(a)?.family;
  return family !== undefined && family === typeVersion(b)?.family;
}
