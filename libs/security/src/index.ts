export * from './tokens.js';
export * from './client.js';
export * from './scope.js';
export * from './client-service.js';
export * from './sqlite-client-store.js';
export * from './postgres-client-store.js';
export * from './audit.js';
