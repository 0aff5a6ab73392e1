import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A password or key read from the environment or a file. Logging it, printing it, turning it into JSON
 * or a string shows `[redacted]`; only {@link Secret.reveal} gives the value, at the one place that
 * hands it to a client library.
 */
export class Secret {
  readonly #value: string;

  /** @param origin where the value came from (a variable's name, a file's path), shown instead of it */
  constructor(
    value: string,
    readonly origin: string,
  ) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${REDACTED}, from ${this.origin})`;
  }
}
