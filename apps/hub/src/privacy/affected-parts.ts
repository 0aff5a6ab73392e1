import { DomainError } from '#lgsp/contracts';
import type { CheckpointStore, EventStore, StoredEvent } from '#lgsp/event-store';
import { kafkaReplayConsumer, type KafkaRelay } from '#lgsp/kafka';
import {
  AffectedSubjects,
  type AffectedQuery,
  type AffectedReport,
  type AffectedTarget,
  type PersonalDataCodec,
} from '#lgsp/privacy';
import { inReadScope, readScope, type Client } from '#lgsp/security';
import { compileFilter } from '#lgsp/subscriptions';
import { WEBHOOK_TARGET_PREFIX, matchesFilter, type WebhookService } from '#lgsp/webhooks';

/** The Kafka relay's target name: every province topic it published. */
export const KAFKA_RELAY_TARGET = 'kafka';

/** A query of the report, the target still a name. */
export type AffectedRequest = Omit<AffectedQuery, 'target'> & { target?: string };

/** "Who was affected" as the HTTP API asks it: targets by name, resolved against this hub's parts. */
export interface AffectedFinder {
  /**
   * @throws DomainError `invalid` (pointer `/target`) when the target names nothing this hub runs.
   */
  find(request: AffectedRequest): Promise<AffectedReport>;
}

/** What the report needs of an outbound connector (a DossierSyncConnector). */
export interface AffectedConnector {
  /** Its subscriber name, the key of its checkpoint. */
  readonly name: string;
  readonly target: string;
  readonly filter: { readonly types?: readonly string[] };
  wants(event: StoredEvent): boolean;
}

export interface AffectedPartsOptions {
  /** The log as stored (sealed): the SealingEventStore's `inner`. */
  events: EventStore;
  codec: PersonalDataCodec;
  /** Where the subscribers' checkpoints are (the connectors', the relay's). */
  checkpoints: CheckpointStore;
  connectors: readonly AffectedConnector[];
  webhooks: Pick<WebhookService, 'record'> | undefined;
  relay: Pick<KafkaRelay, 'name' | 'filter'> | undefined;
  clients: { findByName(name: string): Promise<Client | undefined> };
}

/** The report's service with the targets of this hub: its connectors, webhooks and the Kafka relay. */
export function affectedParts(options: AffectedPartsOptions): AffectedFinder {
  const service = new AffectedSubjects({ events: options.events, codec: options.codec });
  return {
    async find(request) {
      const { target: name, ...rest } = request;
      const target = name === undefined ? undefined : await resolveTarget(options, name);
      return service.find({ ...rest, ...(target === undefined ? {} : { target }) });
    },
  };
}

function unknownTarget(name: string): DomainError {
  return new DomainError(
    'invalid',
    `target ${name} names no connector, webhook or Kafka consumer of this hub`,
    [
      {
        pointer: '/target',
        message:
          'must be a running connector (portal, one-stop-shop, civil-registry, payments), webhook:<id>, kafka or kafka:<client>',
      },
    ],
  );
}

async function resolveTarget(options: AffectedPartsOptions, name: string): Promise<AffectedTarget> {
  const checkpoint = (subscriber: string) => () => options.checkpoints.load(subscriber);

  const connector = options.connectors.find((c) => c.target === name);
  if (connector !== undefined) {
    // The connector reads only these types, and sends a dossier's state for the events it wants.
    return {
      name,
      sends: 'dossier',
      types: connector.filter.types,
      takes: (e) => connector.wants(e),
      through: checkpoint(connector.name),
    };
  }

  if (name.startsWith(WEBHOOK_TARGET_PREFIX) && options.webhooks !== undefined) {
    const id = name.slice(WEBHOOK_TARGET_PREFIX.length);
    const webhook = await options.webhooks.record(id);
    if (webhook === undefined) throw unknownTarget(name);
    // Through this mark every event of its filter was acknowledged, or is kept for a retry (counted:
    // a breach report errs on the side of the subjects).
    const through = Math.min(webhook.deliveredThrough, webhook.cursor);
    return {
      name,
      sends: 'event',
      ...(webhook.filter.types === undefined ? {} : { types: webhook.filter.types }),
      takes: (e) => matchesFilter(webhook, e),
      through: () => Promise.resolve(through),
    };
  }

  const relay = options.relay;
  if (relay !== undefined) {
    const relayed = compileFilter(relay.filter) ?? (() => true);
    if (name === KAFKA_RELAY_TARGET) {
      return {
        name,
        sends: 'event',
        ...(relay.filter?.types === undefined ? {} : { types: relay.filter.types }),
        takes: relayed,
        through: checkpoint(relay.name),
      };
    }
    const consumer = kafkaReplayConsumer(name);
    const client = consumer ? await options.clients.findByName(consumer) : undefined;
    // A consumer reads the province topics within its read scope (as its replays are scoped).
    if (client !== undefined && (client.role === 'province' || client.role === 'commune')) {
      const scope = readScope(client);
      return {
        name,
        sends: 'event',
        ...(relay.filter?.types === undefined ? {} : { types: relay.filter.types }),
        takes: (e) => relayed(e) && inReadScope(scope, e.provinceCode, e.communeCode),
        through: checkpoint(relay.name),
      };
    }
  }
  throw unknownTarget(name);
}
