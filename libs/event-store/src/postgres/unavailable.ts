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

/**
 * Runs `fn` in one transaction on a client of `pool`: BEGIN, `fn`, COMMIT; ROLLBACK on any failure,
 * and a client whose rollback failed is discarded rather than returned to the pool. Failures are
 * classified by {@link postgresUnavailable} with `message` (e.g. "the replay store cannot advance").
 * pg emits 'error' on a checked-out client whose server went away; the running statement reports it,
 * so the event is ignored while the client is held.
 */
export async function inPostgresTransaction<T>(
  pool: pg.Pool,
  message: string,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw postgresUnavailable(err, message);
  }
  const ignore = () => undefined;
  client.on('error', ignore);
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw postgresUnavailable(err, message);
  } finally {
    client.off('error', ignore);
    client.release(broken);
  }
}
