export * from './core/index.js';
export * from './portal/index.js';
export * from './payments/index.js';
export * from './one-stop-shop/index.js';
export * from './civil-registry/index.js';
