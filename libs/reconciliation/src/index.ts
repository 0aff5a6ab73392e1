export * from './model.js';
export { RECONCILIATION_COMPONENT } from './store/rows.js';
export * from './store/sql-reconciliation-store.js';
export * from './service.js';
export * from './expected.js';
export * from './compare.js';
export * from './reconcile-pages.js';
