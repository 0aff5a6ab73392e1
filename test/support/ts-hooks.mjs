// Lets a plain `node` child process or worker thread run the TypeScript sources under test, resolved
// the way jest resolves them: `#lgsp/<lib>` to libs/<lib>/src/index.ts and
// `#lgsp/<lib>/<entry>` to libs/<lib>/src/<entry>/index.ts, `./x.js` to `./x.ts`, compiled
// by swc with the jest configuration. No build step, and no dependency on a possibly stale dist/.
import { existsSync, readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transformSync } from '@swc/core';

const root = fileURLToPath(new URL('../../', import.meta.url));

registerHooks({
  resolve(specifier, context, nextResolve) {
    const lib = /^#lgsp\/([a-z-]+)(?:\/([a-z-]+))?$/.exec(specifier);
    if (lib) {
      const entry = lib[2] ? `${lib[2]}/index.ts` : 'index.ts';
      return { url: pathToFileURL(`${root}libs/${lib[1]}/src/${entry}`).href, shortCircuit: true };
    }
    if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
      const candidate = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
      if (existsSync(candidate)) return { url: candidate.href, shortCircuit: true };
    }
    return nextResolve(specifier, context);
  },
  load(url, context, nextLoad) {
    if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
    const filename = fileURLToPath(url);
    const { code } = transformSync(readFileSync(filename, 'utf8'), {
      filename,
      jsc: {
        target: 'es2024',
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
      },
      module: { type: 'es6' },
      sourceMaps: 'inline',
    });
    return { format: 'module', source: code, shortCircuit: true };
  },
});
