export * from './redact.js';
export * from './logger.js';
export * from './nest-logger.js';
export * from './metrics.js';
export * from './clock.js';
export * from './tracing.js';
