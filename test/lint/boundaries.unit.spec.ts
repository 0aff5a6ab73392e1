import { fileURLToPath } from 'node:url';
import { ESLint, type Linter } from 'eslint';

// The repository's own lint configuration, run on small snippets placed (by name only) where each
// boundary applies: every rule must report the import it forbids and pass the one it allows.
const root = fileURLToPath(new URL('../../', import.meta.url));
// The config is plain JavaScript without declarations: imported by a path the compiler does not follow.
const configPath: string = '../../eslint.config.mjs';
const { default: config } = (await import(configPath)) as { default: Linter.Config[] };
const eslint = new ESLint({ cwd: root, overrideConfigFile: true, overrideConfig: config });

const rulesReported = async (filePath: string, code: string): Promise<string[]> => {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
};

describe('lint boundaries', () => {
  describe('a library is imported only through its entries', () => {
    it('refuses a relative path into a library from an app, a test or another library', async () => {
      expect(
        await rulesReported(
          'apps/cli/src/x.ts',
          "export { openStorage } from '../../../libs/storage/src/index.js';",
        ),
      ).toEqual(['lgsp/boundaries']);
      expect(
        await rulesReported(
          'test/e2e/x.ts',
          "import { a } from '../../libs/event-store/src/sqlite/adapter.js';\nvoid a;",
        ),
      ).toEqual(['lgsp/boundaries']);
      expect(
        await rulesReported(
          'libs/replay/src/x.ts',
          "import { a } from '../../ingest/src/ingest.js';\nvoid a;",
        ),
      ).toEqual(['lgsp/boundaries']);
    });

    it('refuses an import deeper than #lgsp/<lib>/<entry>', async () => {
      expect(
        await rulesReported(
          'apps/hub/src/x.ts',
          "import { a } from '#lgsp/event-store/sqlite/adapter';\nvoid a;",
        ),
      ).toEqual(['lgsp/boundaries']);
    });

    it('accepts the entries and relative paths inside one library', async () => {
      const code = [
        "import { a } from '#lgsp/event-store';",
        "import { b } from '#lgsp/event-store/sqlite';",
        "import { c } from '../port.js';",
        'void [a, b, c];',
      ].join('\n');
      expect(await rulesReported('libs/storage/src/sqlite/x.ts', code)).toEqual([]);
    });
  });

  describe("no app imports another app's source", () => {
    it('refuses a static or dynamic import of another app', async () => {
      expect(
        await rulesReported(
          'apps/hub/src/x.ts',
          "import { a } from '../../simulators/src/portal.js';\nvoid a;",
        ),
      ).toEqual(['lgsp/boundaries']);
      expect(
        await rulesReported('apps/cli/src/x.ts', "export const m = () => import('../../hub/src/server.js');"),
      ).toEqual(['lgsp/boundaries']);
    });

    it("accepts an app's own modules and the tests importing an app", async () => {
      expect(
        await rulesReported('apps/cli/src/x.ts', "import { a } from './hub-config.js';\nvoid a;"),
      ).toEqual([]);
      expect(
        await rulesReported(
          'test/e2e/x.ts',
          "import { a } from '../../apps/simulators/src/index.js';\nvoid a;",
        ),
      ).toEqual([]);
    });
  });

  describe('no library imports an app', () => {
    it("refuses a library's import of an app, even from a spec", async () => {
      expect(
        await rulesReported(
          'libs/connectors/src/portal/x.int.spec.ts',
          "import { a } from '../../../../apps/simulators/src/index.js';\nvoid a;",
        ),
      ).toEqual(['lgsp/boundaries']);
    });
  });

  describe('the ports and the contracts import no infrastructure', () => {
    it.each([
      ['libs/contracts/src/x.ts', '@nestjs/common'],
      ['libs/event-store/src/port.ts', 'pg'],
      ['libs/storage/src/port.ts', 'node:sqlite'],
      ['libs/storage/src/port.ts', 'pg'],
      ['libs/storage/src/port.ts', './postgres/driver.js'],
    ])('refuses %s importing %s', async (filePath, module) => {
      expect(await rulesReported(filePath, `import * as m from '${module}';\nvoid m;`)).toEqual([
        'no-restricted-imports',
      ]);
    });

    it('lets the storage drivers import their database', async () => {
      expect(
        await rulesReported('libs/storage/src/sqlite/x.ts', "import * as m from 'node:sqlite';\nvoid m;"),
      ).toEqual([]);
      expect(
        await rulesReported('libs/storage/src/postgres/x.ts', "import * as m from 'pg';\nvoid m;"),
      ).toEqual([]);
    });
  });
});
