export * from './compare.js';
export * from './portal-reconciler.js';
export * from './one-stop-shop-reconciler.js';
export * from './civil-registry-reconciler.js';
export * from './payment-reconciler.js';
