export * from './external/portal-wire.js';
export * from './portal-mapping.js';
export * from './portal-client.js';
export * from './portal-sync-connector.js';
export * from './external/portal-online-wire.js';
export * from './online-submission-mapping.js';
export * from './online-capture.js';
export * from './portal-reconciler.js';
