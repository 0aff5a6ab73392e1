export * from './external/portal-wire.js';
export * from './portal-mapping.js';
export * from './portal-client.js';
export * from './portal-sync-connector.js';
