// Helpers of the contracts' own specs (kept out of dist, like every libs/*/src/testing).
import { DomainError } from '../errors.js';

/** The DomainError thrown by `fn`; fails the test when it returns normally or throws something else. */
export function domainError(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a DomainError');
}
