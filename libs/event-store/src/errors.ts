import { DomainError } from '#lgsp/contracts';

export interface VersionConflict {
  /** Index of the event in the append call. */
  index: number;
  stream: string;
  expected: number;
  actual: number;
}

/** An expected-version check failed; nothing of the batch was appended. */
export class WrongExpectedVersionError extends DomainError {
  constructor(readonly conflicts: readonly VersionConflict[]) {
    super(
      'conflict',
      conflicts.map((c) => `stream ${c.stream} is at version ${c.actual}, expected ${c.expected}`).join('; '),
      conflicts.map((c) => ({
        pointer: `/${c.index}/expectedversion`,
        message: `stream ${c.stream} is at version ${c.actual}, expected ${c.expected}`,
      })),
    );
    this.name = 'WrongExpectedVersionError';
  }
}

/** The store cannot be reached or is shutting down; the caller may retry. One class for every store. */
export { StoreUnavailableError } from '#lgsp/storage';

/** The store was opened read-only: it reads, but cannot append or save a checkpoint. Retrying cannot help. */
export class ReadOnlyStoreError extends DomainError {
  constructor(file: string, what = 'append') {
    super('unavailable', `the event store at ${file} is open read-only: it cannot ${what}`, [], {
      retriable: false,
    });
    this.name = 'ReadOnlyStoreError';
  }
}
