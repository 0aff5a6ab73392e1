export * from './ingest.service.js';
