import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './index.js';

const file = (content: unknown): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'lgsp-cfg-')), 'hub.json');
  writeFileSync(path, JSON.stringify(content));
  return path;
};

describe('checkpoints settings', () => {
  it('default to a checkpoint every 10000 events or 600 seconds, on', () => {
    expect(loadConfig({}).checkpoints).toEqual({
      enabled: true,
      every: 10_000,
      everySeconds: 600,
      keyFile: null,
    });
  });

  it('take the file and LGSP_CHECKPOINTS_KEY_FILE (resolved), and name a bad value', () => {
    const path = file({ checkpoints: { every: 5, everySeconds: 1 } });
    expect(loadConfig({ LGSP_CONFIG: path }).checkpoints).toEqual({
      enabled: true,
      every: 5,
      everySeconds: 1,
      keyFile: null,
    });
    expect(loadConfig({ LGSP_CHECKPOINTS_KEY_FILE: 'keys/cp.pem' }).checkpoints.keyFile).toBe(
      join(process.cwd(), 'keys/cp.pem'),
    );
    const bad = file({ checkpoints: { every: 0, everySeconds: 'often', keyFile: '', key: 'k.pem' } });
    let problems: readonly string[] = [];
    try {
      loadConfig({ LGSP_CONFIG: bad });
    } catch (e) {
      if (e instanceof ConfigError) problems = e.problems;
    }
    expect(problems).toEqual(
      expect.arrayContaining([
        `${bad}: /checkpoints/every must be >= 1`,
        `${bad}: /checkpoints/everySeconds must be integer`,
        `${bad}: /checkpoints/keyFile must NOT have fewer than 1 characters`,
        `${bad}: /checkpoints/key is not a known setting`,
      ]),
    );
  });
});
