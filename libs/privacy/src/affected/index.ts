export * from './window.js';
export * from './affected-subjects.js';
