import { randomUUID } from 'node:crypto';
import { ANY_VERSION, type EventToAppend } from '#lgsp/event-store';

/**
 * An event of dossier `code`'s stream as the one-stop shop of its commune records it: `data` is
 * the dossier code and what is given beside it.
 */
export function dossierEvent(
  code: string,
  type: string,
  unit: { provinceCode: string; communeCode: string },
  data: Record<string, unknown> = {},
  time?: string,
): EventToAppend {
  return {
    stream: `dossier-${code}`,
    expectedVersion: ANY_VERSION,
    id: randomUUID(),
    source: `/communes/${unit.communeCode}/one-stop-shop`,
    type,
    ...(time === undefined ? {} : { time }),
    data: { dossierCode: code, ...data },
    extensions: {},
    ...unit,
  };
}

/** Polls `check` every `pollMs` until it holds. @throws after `timeoutMs`, naming `what`. */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  { timeoutMs, pollMs }: { timeoutMs: number; pollMs: number },
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
