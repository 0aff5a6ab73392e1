import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileKeyWrapper } from './index.js';

describe('FileKeyWrapper', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lgsp-master-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('reads a 32-byte master key in base64 or hex, and both name the same key', async () => {
    const master = randomBytes(32);
    const b64 = FileKeyWrapper.fromFile(file('b64', `${master.toString('base64')}\n`));
    const hex = FileKeyWrapper.fromFile(file('hex', master.toString('hex')));
    expect(b64.id).toBe(hex.id);
    expect(b64.id).toMatch(/^file-[0-9a-f]{16}$/);
    const subjectKey = randomBytes(32);
    const wrapped = await b64.wrap(subjectKey);
    expect(wrapped).not.toContain(subjectKey.toString('base64'));
    expect(await hex.unwrap(wrapped)).toEqual(subjectKey);
  });

  it('refuses a missing file or one that does not hold 32 bytes, naming the file', () => {
    expect(() => FileKeyWrapper.fromFile(join(dir, 'none'))).toThrow(
      /privacy\.masterKeyFile: cannot read .*none/,
    );
    const short = file('short', randomBytes(16).toString('base64'));
    expect(() => FileKeyWrapper.fromFile(short)).toThrow(
      `privacy.masterKeyFile: ${short} does not hold a 32-byte key`,
    );
    expect(() => new FileKeyWrapper(randomBytes(31))).toThrow('must be 32 bytes');
  });

  it('refuses, with a clear error, a key wrapped under another master key or altered', async () => {
    const one = new FileKeyWrapper(randomBytes(32));
    const other = new FileKeyWrapper(randomBytes(32));
    const wrapped = await one.wrap(randomBytes(32));
    await expect(other.unwrap(wrapped)).rejects.toThrow(
      `a subject key does not open with the master key ${other.id}: the wrong privacy.masterKeyFile, or an altered key table`,
    );
    // The same id but altered bytes: GCM refuses it.
    const altered = wrapped.slice(0, -4) + (wrapped.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    await expect(one.unwrap(altered)).rejects.toThrow(`does not open with the master key ${one.id}`);
  });
});
