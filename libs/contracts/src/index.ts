export * from './errors.js';
export * from './cloudevent.js';
export * from './generated/events.js';
