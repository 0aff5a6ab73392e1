// The PostgreSQL error mapping and migration live with the pg driver of #lgsp/storage, shared by every store.
export { inPostgresTransaction, migratePostgresSchema, postgresUnavailable } from '#lgsp/storage/postgres';
