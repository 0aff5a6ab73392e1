// The PostgreSQL error mapping lives with the pg driver of #lgsp/storage, shared by every store.
export { inPostgresTransaction, postgresUnavailable } from '#lgsp/storage/postgres';
