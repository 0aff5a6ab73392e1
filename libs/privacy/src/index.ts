// Personal data under Law 91/2025: sealed per data subject (AES-256-GCM), keys behind a provider
// interface, erasure by destroying a subject's keys.
export * from './model.js';
export * from './cipher.js';
export * from './subject-keys.js';
export * from './sql-subject-key-store.js';
export * from './personal-fields.js';
export * from './personal-data-codec.js';
export * from './sealing-event-store.js';
export * from './file-key-wrapper.js';
export * from './affected/index.js';
export * from './erasure/model.js';
export * from './erasure/sql-erasure-store.js';
export * from './erasure/erasure-service.js';
export * from './erasure/retention-job.js';
export * from './working-copies.js';
