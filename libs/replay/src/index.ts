export * from './model.js';
export * from './scope.js';
export * from './planner.js';
export * from './connector-target.js';
export { REPLAY_COMPONENT } from './store-rules.js';
export * from './sql-replay-store.js';
export * from './replay-service.js';
