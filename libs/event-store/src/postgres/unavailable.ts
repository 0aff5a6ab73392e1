import pg from 'pg';
import { DomainError } from '#lgsp/contracts';
import { StoreUnavailableError } from '../errors.js';

/**
 * SQLSTATEs that mean "try again later": the connection or the server going away (class 08, admin
 * shutdown, crash, cannot connect now), overload, and a lost serialisation or deadlock.
 */
const RETRIABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '53000', '40001', '40P01']);

/**
 * What a failed PostgreSQL call means to the hub. Connection loss, shutdown and overload become
 * StoreUnavailableError (a 503, retriable), and so does every error that is not the server's answer to
 * the statement (a refused or cut connection, a timeout, an ended pool). A DomainError and any other
 * SQL error pass through unchanged: retrying cannot help them. Shared by every PostgreSQL table the
 * hub keeps (events, checkpoints, leases, clients, dossier views).
 */
export function postgresUnavailable(err: unknown, message: string): unknown {
  if (err instanceof DomainError || err instanceof StoreUnavailableError) return err;
  if (err instanceof pg.DatabaseError) {
    const code = err.code ?? '';
    if (!code.startsWith('08') && !RETRIABLE_SQLSTATES.has(code)) return err;
  }
  return new StoreUnavailableError(`${message}: ${err instanceof Error ? err.message : String(err)}`, err);
}
