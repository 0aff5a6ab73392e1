import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// kafkajs lives in external/ only: swapping the client must touch one folder (STYLE.md).
const SRC = dirname(fileURLToPath(import.meta.url));
const IMPORTS_KAFKAJS = /from\s+'kafkajs'|import\(\s*'kafkajs'\s*\)|require\(\s*'kafkajs'\s*\)/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('libs/kafka', () => {
  const importers = sources(SRC)
    .filter((file) => IMPORTS_KAFKAJS.test(readFileSync(file, 'utf8')))
    .map((file) => relative(SRC, file));

  it('imports kafkajs only in external/', () => {
    expect(importers.filter((file) => !file.startsWith('external/'))).toEqual([]);
  });

  it('does import it there (the check above sees imports)', () => {
    expect(importers).toContain('external/kafkajs-client.ts');
  });
});
