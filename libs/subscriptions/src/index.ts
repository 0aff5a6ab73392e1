export * from './subscriber.js';
export * from './backoff.js';
export * from './subscription-runner.js';
export * from './subscriptions.js';
export * from './lease-keeper.js';
