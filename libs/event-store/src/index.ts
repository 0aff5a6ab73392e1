// The port: types, errors, hashing and chain verification. It imports no driver; each adapter
// has its own entry (`#lgsp/event-store/sqlite`, `/postgres`, `/kurrentdb`).
export * from './port.js';
export * from './errors.js';
export * from './hash.js';
export * from './generation-cache.js';
export * from './chain.js';
