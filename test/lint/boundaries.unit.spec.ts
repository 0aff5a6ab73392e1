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

const BOUNDARY = ['lgsp/boundaries'];

/** Each case: where the snippet is placed, the snippet, the rules it must be reported by (none: allowed). */
type Case = [filePath: string, code: string, reported: string[]];

const expectReported = async (filePath: string, code: string, reported: string[]) =>
  expect(await rulesReported(filePath, code)).toEqual(reported);

describe('lint boundaries', () => {
  describe('a library is imported only through its entries', () => {
    it.each<Case>([
      ['apps/cli/src/x.ts', "export { openStorage } from '../../../libs/storage/src/index.js';", BOUNDARY],
      [
        'test/e2e/x.ts',
        "import { a } from '../../libs/event-store/src/sqlite/adapter.js';\nvoid a;",
        BOUNDARY,
      ],
      ['libs/replay/src/x.ts', "import { a } from '../../ingest/src/ingest.js';\nvoid a;", BOUNDARY],
    ])('refuses a relative path into a library from an app, a test or another library: %s', expectReported);

    it.each<Case>([
      ['apps/hub/src/x.ts', "import { a } from '#lgsp/event-store/sqlite/adapter';\nvoid a;", BOUNDARY],
    ])('refuses an import deeper than #lgsp/<lib>/<entry>: %s', expectReported);

    it('accepts the entries and relative paths inside one library', async () => {
      const code = [
        "import { a } from '#lgsp/event-store';",
        "import { b } from '#lgsp/event-store/sqlite';",
        "import { c } from '../port.js';",
        'void [a, b, c];',
      ].join('\n');
      await expectReported('libs/storage/src/sqlite/x.ts', code, []);
    });
  });

  describe("no app imports another app's source", () => {
    it.each<Case>([
      ['apps/hub/src/x.ts', "import { a } from '../../simulators/src/portal.js';\nvoid a;", BOUNDARY],
      ['apps/cli/src/x.ts', "export const m = () => import('../../hub/src/server.js');", BOUNDARY],
    ])('refuses a static or dynamic import of another app: %s', expectReported);

    it.each<Case>([
      ['apps/cli/src/x.ts', "import { a } from './hub-config.js';\nvoid a;", []],
      ['test/e2e/x.ts', "import { a } from '../../apps/simulators/src/index.js';\nvoid a;", []],
    ])("accepts an app's own modules and the tests importing an app: %s", expectReported);
  });

  describe('no library imports an app', () => {
    it.each<Case>([
      [
        'libs/connectors/src/portal/x.int.spec.ts',
        "import { a } from '../../../../apps/simulators/src/index.js';\nvoid a;",
        BOUNDARY,
      ],
    ])("refuses a library's import of an app, even from a spec: %s", expectReported);
  });

  describe('the ports and the contracts import no infrastructure', () => {
    it.each([
      ['libs/contracts/src/x.ts', '@nestjs/common'],
      ['libs/event-store/src/port.ts', 'pg'],
      ['libs/storage/src/port.ts', 'node:sqlite'],
      ['libs/storage/src/port.ts', 'pg'],
      ['libs/storage/src/port.ts', './postgres/driver.js'],
    ])('refuses %s importing %s', async (filePath, module) => {
      await expectReported(filePath, `import * as m from '${module}';\nvoid m;`, ['no-restricted-imports']);
    });

    it.each([
      ['libs/storage/src/sqlite/x.ts', 'node:sqlite'],
      ['libs/storage/src/postgres/x.ts', 'pg'],
    ])('lets the storage drivers import their database: %s importing %s', async (filePath, module) => {
      await expectReported(filePath, `import * as m from '${module}';\nvoid m;`, []);
    });
  });
});
