import { DomainError, type Issue } from './errors.js';
import type { EventType } from './generated/events.js';
import { EVENT_TYPES } from './schemas.js';

/** The hub's notice that a data subject's key was destroyed (one per dossier of the subject, in its stream). */
export const PERSON_ERASED = 'vn.gov.lgsp.person.erased.v1' satisfies EventType;

/**
 * The catalogue types only the hub emits (its notice that a data subject was erased): published to the
 * province topics and webhooks like the others, never accepted from a client (HTTP or Kafka ingest).
 */
export const HUB_EMITTED_TYPES: readonly EventType[] = Object.freeze([PERSON_ERASED]);

/** The catalogue types clients may send: every type but {@link HUB_EMITTED_TYPES}. */
export const INGEST_TYPES: readonly EventType[] = Object.freeze(
  EVENT_TYPES.filter((t) => !HUB_EMITTED_TYPES.includes(t)),
);

/** Whether `type` is one the hub emits itself. */
export const isHubEmitted = (type: unknown): boolean =>
  typeof type === 'string' && (HUB_EMITTED_TYPES as readonly string[]).includes(type);

/**
 * Refuses events of a hub-emitted type sent by a client.
 * @throws DomainError `invalid` with a pointer to each such event's `type` (`/type` for a single event).
 */
export function assertClientEmittable(events: readonly { type?: unknown }[], single: boolean): void {
  const issues: Issue[] = [];
  events.forEach((e, i) => {
    if (isHubEmitted(e.type))
      issues.push({
        pointer: single ? '/type' : `/${i}/type`,
        message: `${String(e.type)} is emitted by the hub only: clients cannot send it`,
      });
  });
  if (issues.length > 0)
    throw new DomainError('invalid', `${issues.length} event(s) of a type only the hub emits`, issues);
}
