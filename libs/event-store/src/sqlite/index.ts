// The SQLite adapter (`node:sqlite`), its migrations helper and its chain source for `verify`.
export * from './sqlite-event-store.js';
export * from './migrations.js';
export * from './sqlite-chain-source.js';
