// The SQLite adapter (`node:sqlite`) and its chain source for `verify`.
export * from './sqlite-event-store.js';
export * from './sqlite-chain-source.js';
