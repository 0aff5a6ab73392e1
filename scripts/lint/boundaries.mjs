// The module boundaries of the monorepo, as one ESLint rule (no-restricted-imports sees only the
// import's text; these rules need the importing file's place and the resolved target):
// - a library is imported only through its entries, `#lgsp/<lib>` or `#lgsp/<lib>/<entry>`: never by
//   a relative path into libs/<lib>/src from outside that library, never deeper (`#lgsp/x/y/z`);
// - an app does not import another app's source (what they share belongs in a library), and a library
//   imports no app at all (the dependencies point from apps to libraries).
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `libs/<name>`, `apps/<name>` or null for a repository path. */
function unitOf(path) {
  const m = /^(libs|apps)\/([^/]+)\//.exec(path);
  return m ? { kind: m[1], name: m[2] } : null;
}

/** @type {import('eslint').Rule.RuleModule} */
const rule = {
  meta: {
    type: 'problem',
    docs: {
      description: 'Libraries through their entries only; no app imports another app, no library an app.',
    },
    schema: [
      {
        type: 'object',
        properties: {
          // Known offenders, each `<importing file> -> <import specifier>`, tolerated until removed.
          allow: { type: 'array', items: { type: 'string' } },
        },
        additionalProperties: false,
      },
    ],
    messages: {
      libPath:
        'Import a lib through its public entry: #lgsp/{{lib}} (or #lgsp/{{lib}}/<entry>), not {{source}}.',
      deepEntry: 'A lib has entries #lgsp/<lib> and #lgsp/<lib>/<entry> only, not {{source}}.',
      otherApp:
        "An app does not import another app's source ({{source}} is in apps/{{app}}): move what they share to a lib.",
      libApp: 'A lib imports no app ({{source}} is in apps/{{app}}): move what it needs to a lib.',
    },
  },
  create(context) {
    const allow = new Set(context.options[0]?.allow ?? []);
    const file = relative(ROOT, context.filename).split('\\').join('/');
    const from = unitOf(file);
    const check = (node, source) => {
      if (typeof source !== 'string' || allow.has(`${file} -> ${source}`)) return;
      if (source.startsWith('#lgsp/')) {
        if (source.split('/').length > 3) context.report({ node, messageId: 'deepEntry', data: { source } });
        return;
      }
      if (!source.startsWith('.')) return;
      const target = relative(ROOT, resolve(dirname(context.filename), source))
        .split('\\')
        .join('/');
      const to = unitOf(`${target}/`);
      if (!to || (from && from.kind === to.kind && from.name === to.name)) return;
      if (to.kind === 'libs') context.report({ node, messageId: 'libPath', data: { lib: to.name, source } });
      else if (from?.kind === 'apps')
        context.report({ node, messageId: 'otherApp', data: { app: to.name, source } });
      else if (from?.kind === 'libs')
        context.report({ node, messageId: 'libApp', data: { app: to.name, source } });
    };
    const literal = (node) => (node?.type === 'Literal' ? node.value : undefined);
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => check(node, literal(node.source)),
    };
  },
};

export default { rules: { boundaries: rule } };
