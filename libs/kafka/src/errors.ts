import { DomainError, type Issue } from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';

/**
 * A stored event the relay cannot place on a topic: it has no province code or no dossier code.
 * Every catalogue event has both, so this is a data error in the log (an event that did not pass
 * ingest); retrying cannot help, an operator has to act.
 */
export class UnroutableEventError extends DomainError {
  readonly position: number;
  readonly stream: string;

  constructor(
    event: Pick<StoredEvent, 'position' | 'stream' | 'id' | 'source'>,
    reason: string,
    issues: Issue[],
  ) {
    super(
      'invalid',
      `event at position ${event.position} (stream ${event.stream}, id ${event.id}, source ${event.source}) ` +
        `cannot be relayed to Kafka: ${reason}`,
      issues,
      { retriable: false },
    );
    this.name = 'UnroutableEventError';
    this.position = event.position;
    this.stream = event.stream;
  }
}

/**
 * Why a broker refused the connection itself, before any request: the hub's SASL credentials
 * (`authentication`), or a TLS certificate, the broker's not trusted by the hub or the hub's refused by
 * the broker (`certificate`). Both are configuration to fix, not an outage.
 */
export type KafkaRefusal = 'authentication' | 'certificate';

/**
 * The broker refused or could not take a request. `retriable` comes from the client library's own
 * classification (a broker that is down or has no leader yet is retriable; an authorization failure or
 * a record too large is not). `refusal` says when the connection itself was refused, and why.
 */
export class BrokerError extends DomainError {
  readonly refusal: KafkaRefusal | undefined;

  constructor(message: string, options: { cause?: unknown; retriable: boolean; refusal?: KafkaRefusal }) {
    super('unavailable', message, [], options);
    this.name = 'BrokerError';
    this.refusal = options.refusal;
  }
}
