export * from './port.js';
export * from './errors.js';
export * from './hash.js';
export * from './sqlite/sqlite-event-store.js';
export * from './sqlite/migrations.js';
export * from './postgres/postgres-event-store.js';
export * from './postgres/migrations.js';
export * from './postgres/postgres-lease-store.js';
