import type { ConnectorErrorKind } from '../errors.js';
import type { ParkedItem, ParkingAction, ParkingHistoryEntry } from './parking-store.js';

/** The columns both adapters store, one name each. */
export interface ParkedRow {
  id: number | string; // PostgreSQL returns BIGINT as text
  target: string;
  dossier: string;
  reason: string;
  kind: ConnectorErrorKind;
  attempts: number;
  first_position: number | string;
  last_position: number | string;
  last_error: string;
  parked_at: string;
}

export interface HistoryRow {
  target: string;
  dossier: string;
  action: ParkingAction;
  at: string;
  by: string;
  note: string | null;
  kind: ConnectorErrorKind;
  attempts: number;
  last_error: string;
  from_position: number | string;
  through_position: number | string;
}

export const toParkedItem = (r: ParkedRow): ParkedItem => ({
  id: Number(r.id),
  target: r.target,
  dossier: r.dossier,
  reason: r.reason,
  kind: r.kind,
  attempts: Number(r.attempts),
  firstPosition: Number(r.first_position),
  lastPosition: Number(r.last_position),
  lastError: r.last_error,
  parkedAt: r.parked_at,
});

export const toHistoryEntry = (r: HistoryRow): ParkingHistoryEntry => ({
  target: r.target,
  dossier: r.dossier,
  action: r.action,
  at: r.at,
  by: r.by,
  ...(r.note === null ? {} : { note: r.note }),
  kind: r.kind,
  attempts: Number(r.attempts),
  lastError: r.last_error,
  fromPosition: Number(r.from_position),
  throughPosition: Number(r.through_position),
});
