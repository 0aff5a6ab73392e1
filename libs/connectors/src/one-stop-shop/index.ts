export * from './external/one-stop-shop-wire.js';
export * from './one-stop-shop-mapping.js';
export * from './one-stop-shop-client.js';
export * from './one-stop-shop-sync-connector.js';
export * from './one-stop-shop-reconciler.js';
export * from './one-stop-shop-capture.js';
