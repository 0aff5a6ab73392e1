export * from './external/civil-registry-wire.js';
export * from './civil-registry-mapping.js';
export * from './civil-registry-client.js';
export * from './dvclt-client.js';
export * from './civil-registry-connector.js';
export * from './civil-registry-result-poller.js';
export * from './civil-registry-reconciler.js';
