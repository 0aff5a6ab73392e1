// The OpenAPI document of the HTTP API (apps/hub/src/http/openapi.ts): valid for a third-party
// validator, built on the catalogue's event schemas, and in step with the README's API table.
import { readFileSync } from 'node:fs';
import { validate, compileErrors } from '@readme/openapi-parser';
import { EVENT_TYPES, EventSchemas, INGEST_TYPES, eventSchemaId, findRepoFile } from '#lgsp/contracts';
import { documentedRoutes, openApiDocument, type OpenApiDocument } from '../../apps/hub/src/http/openapi.js';

type Json = Record<string, unknown>;

/** `{name or id}` and `{ref}` are one parameter: routes compare with their parameters unnamed. */
const unnamed = (route: string): string => route.replace(/\{[^}]*\}/g, '{}');

/**
 * The routes one cell of the README's API table names: each code span is `METHODS PATH`, where `a\|b`
 * is a choice (of methods, or of one path segment), `[…]` an optional part, and a query is ignored.
 */
export function expandRoutePattern(pattern: string): string[] {
  const open = pattern.indexOf('[');
  if (open >= 0) {
    let depth = 0;
    let close = -1;
    for (let i = open; i < pattern.length && close < 0; i++) {
      if (pattern[i] === '[') depth++;
      if (pattern[i] === ']' && --depth === 0) close = i;
    }
    if (close < 0) throw new Error(`unbalanced [ in ${pattern}`);
    const before = pattern.slice(0, open);
    const after = pattern.slice(close + 1);
    return [
      ...expandRoutePattern(before + pattern.slice(open + 1, close) + after),
      ...expandRoutePattern(before + after),
    ];
  }
  const space = pattern.indexOf(' ');
  const methods = pattern.slice(0, space);
  const path = pattern.slice(space + 1);
  const paths = path
    .split('?')[0]!
    .split('/')
    .reduce<string[]>(
      (prefixes, segment, i) =>
        prefixes.flatMap((prefix) =>
          segment.split('|').map((choice) => (i === 0 ? choice : `${prefix}/${choice}`)),
        ),
      [''],
    );
  return methods.split('|').flatMap((method) => paths.map((p) => `${method} ${p}`));
}

/** The rows of the README's API table (the table whose first column is "method and path"). */
function readmeRows(readme: string): { routes: string[]; who: string }[] {
  const lines = readme.split('\n');
  const start = lines.findIndex((line) => line.startsWith('| method and path'));
  if (start < 0) throw new Error('README.md has no API table ("| method and path")');
  const rows: { routes: string[]; who: string }[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [, cell = '', who = ''] = line.split(/(?<!\\)\|/);
    const routes = [...cell.matchAll(/`([^`]+)`/g)].flatMap(([, span]) =>
      expandRoutePattern(span!.replaceAll('\\|', '|')),
    );
    rows.push({ routes, who: who.trim() });
  }
  return rows;
}

const readmeRoutes = (readme: string): string[] => readmeRows(readme).flatMap((row) => row.routes);

/** The "who" column's words, as the document's `x-lgsp-callers`. */
const WHO: Record<string, readonly string[]> = {
  'any client, scoped': ['admin', 'operator', 'province', 'commune'],
  'any but commune': ['admin', 'operator', 'province'],
  'none (signed)': ['payment-platform'],
  anyone: ['anyone'],
};
const callersOfWho = (who: string): string[] => [...(WHO[who] ?? who.split(', '))].sort();

/** What the README table and the document disagree on, one line each. */
function tableDifferences(readme: string, document: OpenApiDocument): string[] {
  const inTable = new Set(readmeRoutes(readme).map(unnamed));
  const inDocument = new Set(documentedRoutes(document).map(unnamed));
  return [
    ...[...inDocument].filter((r) => !inTable.has(r)).map((r) => `not in the README table: ${r}`),
    ...[...inTable].filter((r) => !inDocument.has(r)).map((r) => `not in the document: ${r}`),
  ];
}

describe('the OpenAPI document', () => {
  const document = openApiDocument('0.0.0-test');

  it('is a valid OpenAPI 3.1 document for @readme/openapi-parser', async () => {
    // validate() dereferences in place: it gets a copy.
    const result = await validate(structuredClone(document) as never);
    expect(result.valid ? '' : compileErrors(result)).toBe('');
    expect(document['openapi']).toMatch(/^3\.1\./);
  });

  it('carries every event schema of the catalogue, pointing at the common definitions', () => {
    const schemas = (document['components'] as Json)['schemas'] as Record<string, Json>;
    const catalogue = EventSchemas.shared();
    for (const type of EVENT_TYPES) {
      const source = catalogue.schema(type);
      const name = Object.keys(schemas).find((n) => schemas[n]!['x-schema-id'] === eventSchemaId(type));
      expect([type, name]).toEqual([type, expect.any(String)]);
      const component = schemas[name!]!;
      expect(component['required']).toEqual(source['required']);
      expect(Object.keys(component['properties'] as Json)).toEqual(Object.keys(source['properties'] as Json));
      const text = JSON.stringify(component);
      expect(text).not.toContain('common/v1.json');
      expect(text).toContain('"#/components/schemas/common.v1/$defs/');
    }
  });

  it('takes the ingest types in structured, batch and binary mode', () => {
    const ingest = document.paths['/v1/events']!['post'] as Json;
    const content = (ingest['requestBody'] as Json)['content'] as Record<string, Json>;
    expect(Object.keys(content).sort()).toEqual([
      'application/cloudevents+json',
      'application/cloudevents-batch+json',
      'application/json',
    ]);
    const structured = JSON.stringify(content['application/cloudevents+json']);
    for (const type of INGEST_TYPES)
      expect(structured).toContain(
        eventSchemaId(type)
          .split('/events/')[1]!
          .replace(/\/v([0-9]+)\.json$/, '.v$1'),
      );
  });

  it('answers errors with problem documents and names the roles of each route', () => {
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, op] of Object.entries(item as Record<string, Json>)) {
        const label = `${method} ${path}`;
        expect([label, Array.isArray(op['x-lgsp-callers'])]).toEqual([label, true]);
        const responses = op['responses'] as Record<string, Json>;
        for (const [status, response] of Object.entries(responses)) {
          if (Number(status) < 400 || path === '/v1/callbacks/payments') continue;
          expect([label, status, response['$ref']]).toEqual([
            label,
            status,
            expect.stringMatching(/^#\/components\/responses\//),
          ]);
        }
      }
    }
  });
});

describe("the README's API table", () => {
  const readme = readFileSync(findRepoFile('README.md'), 'utf8');
  const document = openApiDocument('0.0.0-test');

  it('names every route of the document, and no other', () => {
    expect(tableDifferences(readme, document)).toEqual([]);
  });

  it('says who may call each route as the document does', () => {
    for (const { routes, who } of readmeRows(readme)) {
      for (const route of routes) {
        const method = route.slice(0, route.indexOf(' '));
        const path = route.slice(route.indexOf(' ') + 1);
        const key = Object.keys(document.paths).find((p) => unnamed(p) === unnamed(path))!;
        const callers = (document.paths[key]![method.toLowerCase()] as Json)['x-lgsp-callers'] as string[];
        // /metrics is open unless `metrics.token` is set: the table says anyone.
        const documented = callers.map((c) => (c === 'metrics' ? 'anyone' : c)).sort();
        expect([route, callersOfWho(who)]).toEqual([route, documented]);
      }
    }
  });

  it('is told apart from a document that lost a route or gained one', () => {
    const changed = structuredClone(document);
    delete changed.paths['/v1/admin/audit/verify'];
    changed.paths['/v1/admin/extra'] = { get: {} };
    expect(tableDifferences(readme, changed)).toEqual([
      'not in the README table: GET /v1/admin/extra',
      'not in the document: GET /v1/admin/audit/verify',
    ]);
  });

  it('reads the compact forms of the table', () => {
    expect(expandRoutePattern('GET|POST /v1/x[/{id}[/a|b]]?limit=').sort()).toEqual(
      [
        'GET /v1/x',
        'GET /v1/x/{id}',
        'GET /v1/x/{id}/a',
        'GET /v1/x/{id}/b',
        'POST /v1/x',
        'POST /v1/x/{id}',
        'POST /v1/x/{id}/a',
        'POST /v1/x/{id}/b',
      ].sort(),
    );
  });
});
