export * from './dossier-view.js';
export * from './dossier-view-repository.js';
export * from './sql-dossier-view-repository.js';
export * from './dossier-projection.js';
export * from './dossier-state.js';
