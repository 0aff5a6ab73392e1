// The PostgreSQL adapter (`pg`), its migrations, its chain source for `verify`, the lease store and
// the driver-error mapping other PostgreSQL stores share.
export * from './postgres-event-store.js';
export * from './migrations.js';
export * from './postgres-chain-source.js';
export * from './postgres-lease-store.js';
export * from './unavailable.js';
