export * from './ingest.service.js';
export * from './portal-codes.js';
