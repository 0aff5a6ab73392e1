export * from './model.js';
export { RECONCILIATION_COMPONENT } from './store/rows.js';
export * from './store/memory-reconciliation-store.js';
export * from './store/sqlite-reconciliation-store.js';
export * from './store/postgres-reconciliation-store.js';
export * from './service.js';
export * from './expected.js';
export * from './compare.js';
export * from './reconcile-pages.js';
