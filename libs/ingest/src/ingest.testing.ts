// Fixtures of the ingest specs (kept out of dist, like every *.testing.ts): communes, their clients,
// and valid dossier events of one commune.
import { randomUUID } from 'node:crypto';
import { exampleEvent, type CloudEvent, type EventType } from '#lgsp/contracts';
import type { Client } from '#lgsp/security';

export interface Commune {
  provinceCode: string;
  communeCode: string;
}

export const BINH_SON: Commune = { provinceCode: '51', communeCode: '21040' };
export const TINH_KY: Commune = { provinceCode: '51', communeCode: '21025' };
export const IN_79: Commune = { provinceCode: '79', communeCode: '26734' };

/** A commune's client, allowed to write for `at` only. */
export const communeClient = (name: string, at: Commune): Client => ({
  id: name,
  name,
  role: 'commune',
  provinceCode: at.provinceCode,
  communeCodes: [at.communeCode],
  sources: [],
  createdAt: '',
});

/** The example event of `type` for dossier `code` of commune `at`, with a fresh id; `more` sets data. */
export function eventOf(
  type: EventType,
  at: Commune,
  code: string,
  more: Record<string, unknown> = {},
): CloudEvent {
  const event = exampleEvent(type, randomUUID());
  Object.assign(event.data as object, { dossierCode: code, ...at, ...more });
  return { ...event, source: `/communes/${at.communeCode}/one-stop-shop` };
}

/** Dossier `code`, transferred by Bình Sơn to commune 26734 of province 79. */
export const transferTo79 = (code: string): CloudEvent =>
  eventOf('vn.gov.lgsp.dossier.transferred.v1', BINH_SON, code, {
    toProvinceCode: '79',
    toCommuneCode: '26734',
  });
