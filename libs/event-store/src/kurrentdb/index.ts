// The KurrentDB adapter. `@kurrent/kurrentdb-client` is an optional dependency: only this entry
// loads it, so import this entry lazily where the package may be absent.
export * from './kurrentdb-event-store.js';
