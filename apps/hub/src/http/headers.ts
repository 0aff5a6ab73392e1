import { DomainError, pointerToken } from '#lgsp/contracts';

/**
 * Headers that must come once. Node keeps the first `Host`, `Content-Type` or `Authorization` and drops
 * the others, and joins repeated unknown headers (`ce-id: a` twice becomes `a, a`): either way the hub
 * would act on a value the sender did not send as such.
 */
const SINGLE = new Set(['host', 'content-type', 'authorization', 'last-event-id']);
const CE_PREFIX = 'ce-';

/**
 * Refuses a request that repeats a header the hub reads as one value (`Host`, `Content-Type`,
 * `Authorization`, `Last-Event-ID`, every CloudEvents `ce-*` attribute; read from `rawHeaders`, where
 * repeats survive) or, in HTTP/1.1, has no `Host` (RFC 9112 §3.2; Node's own check answers without a
 * problem document, so the server leaves it to this one).
 * @throws DomainError `malformed` naming the header; for a `ce-*` header the pointer is its attribute.
 */
export function assertHeaders(req: { rawHeaders: readonly string[]; httpVersion: string }): void {
  const { rawHeaders } = req;
  let seen: Set<string> | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (!SINGLE.has(name) && !name.startsWith(CE_PREFIX)) continue;
    seen ??= new Set();
    if (!seen.has(name)) {
      seen.add(name);
      continue;
    }
    const message = `header ${name} is sent more than once; send it once`;
    const pointer = name.startsWith(CE_PREFIX) ? `/${pointerToken(name.slice(CE_PREFIX.length))}` : '';
    throw new DomainError('malformed', message, [{ pointer, message: 'is repeated' }]);
  }
  if (req.httpVersion === '1.1' && seen?.has('host') !== true) {
    const message = 'an HTTP/1.1 request must have a Host header';
    throw new DomainError('malformed', message, [{ pointer: '', message }]);
  }
}
