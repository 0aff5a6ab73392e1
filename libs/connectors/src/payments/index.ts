export * from './digest.js';
export * from './external/payment-wire.js';
export * from './payment-mapping.js';
export * from './payment-client.js';
export * from './payment-connector.js';
export * from './payment-callback-handler.js';
export * from './payment-status-poller.js';
export * from './payment-reconciler.js';
