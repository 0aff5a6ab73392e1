// Signed checkpoints of the event log: the message format, Ed25519 signing and checking, the store of
// keys and checkpoints, and the subscriber that signs them.
export * from './model.js';
export * from './signing.js';
export * from './check.js';
export * from './sql-checkpoint-store.js';
export * from './checkpoint-subscriber.js';
