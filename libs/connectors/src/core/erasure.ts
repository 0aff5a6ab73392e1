import { PERSON_ERASED } from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';
import { ERASED } from '#lgsp/privacy';

/**
 * The hub's notice that a data subject's key was destroyed (`person.erased`), one in the stream of each
 * of the subject's dossiers. The dossier-sync connectors take it as a call to send the dossier again:
 * read after the erasure, its personal fields are {@link ERASED}, so the target's copy is overwritten.
 */
export { ERASED, PERSON_ERASED };

/** True for a `person.erased` event. */
export function isPersonErased(event: Pick<StoredEvent, 'type'>): boolean {
  return event.type === PERSON_ERASED;
}

/** True for a personal value whose subject's key was destroyed. */
export function isErased(value: unknown): boolean {
  return value === ERASED;
}

/** `value`, or undefined when it was erased (a field whose format cannot carry {@link ERASED}). */
export function unlessErased<T>(value: T | undefined): T | undefined {
  return isErased(value) ? undefined : value;
}
