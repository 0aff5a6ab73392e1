export * from './core/index.js';
export * from './portal/index.js';
export * from './payments/index.js';
