export * from './dossier-view.js';
export * from './dossier-view-repository.js';
export * from './sqlite-dossier-view-repository.js';
export * from './sqlite-projection-database.js';
export * from './dossier-projection.js';
export * from './postgres-dossier-view-repository.js';
export * from './dossier-state.js';
