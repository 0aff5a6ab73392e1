export * from './port.js';
export * from './errors.js';
export * from './hash.js';
