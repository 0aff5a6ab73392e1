// Fixtures for the specs of the event store and of the libraries built on it (kept out of dist, like
// every libs/*/src/testing): `#lgsp/event-store/testing`.
export {
  PAYMENT_COMPLETED,
  STATUS_CHANGED,
  SUBMITTED,
  chainEvent,
  readWholeLog,
  statusChange,
} from '../contract/context.js';
