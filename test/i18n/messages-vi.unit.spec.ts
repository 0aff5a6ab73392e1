import { fileURLToPath } from 'node:url';
import { MESSAGE_CATALOGUE_VI, messageVi } from '#lgsp/contracts';
import { scanMessages, type MessageSite } from './message-sites.js';

// Every message the hub's sources can put in a problem's detail or an issue's message must have its
// Vietnamese in libs/contracts/src/messages-vi.ts: a new `new DomainError(…)` in English only fails here.
const root = fileURLToPath(new URL('../../', import.meta.url));
const scan = scanMessages(root, ['apps', 'libs']);

/** Texts the scan cannot follow to a literal, each with where its Vietnamese comes from instead. */
const NOT_LITERAL: Readonly<Record<string, string>> = {
  'apps/hub/src/http/problem.ts error.message': "a DomainError's own message: its throw site is scanned",
  'apps/hub/src/http/problem.ts detail':
    "a framework error's message: catalogue's framework entries, else a generic detail",
  "apps/hub/src/http/problem.ts e.message ?? 'unavailable'": "a framework 503's message, as above",
  'apps/hub/src/http/problem.ts messageVi(e.message) ?? e.message':
    'the Vietnamese of an issue scanned at its site',
  'apps/hub/src/http/validation.ts message':
    "class-validator's messages: the catalogue's class-validator entries",
  'libs/contracts/src/strict-json.ts reason': "V8's JSON.parse message, quoted inside the translated detail",
  'libs/contracts/src/validate.ts ajvMessage(error)':
    "ajv's messages: the catalogue's ajv entries (ajv-i18n is not installed)",
  'libs/kafka/src/dead-letter.ts message': 'issues copied from an error whose sites are scanned',
  'libs/kafka/src/relay.ts reason': 'the message of an error whose site is scanned',
  'libs/contracts/src/upcast.ts err.message': "a ConversionProblem's message: its throw sites are scanned",
  'libs/connectors/src/payments/payment-callback-handler.ts body':
    "the parser's { field, message }, whose literals are scanned",
  "apps/hub/src/http/openapi.ts str('What is wrong there.')":
    'the JSON Schema of an issue in the OpenAPI document, not an issue',
};

/** Sites whose text is `<field>: <message>` of another scanned message (messageVi's composition rule). */
const COMPOSED = new Set(['apps/hub/src/http/callbacks.controller.ts']);

// Function words that show an English phrase was left in a translation.
const ENGLISH = /\b(the|must|is|are|not|and|with|cannot|does|has|only|this|of|be|been|an|no|send)\b/i;

const sample = (shape: string) => shape.replaceAll('{}', 'X');
const file = (site: MessageSite) => site.at.replace(/:\d+$/, '');

describe('Vietnamese messages (libs/contracts/src/messages-vi.ts)', () => {
  it('finds the throw sites (the scan itself works)', () => {
    expect(scan.sites.length).toBeGreaterThan(300);
    expect(scan.sites.map((s) => s.shape)).toContain('no reconciliation run {}');
    expect(scan.sites.map((s) => s.shape)).toContain('the request body is larger than the limit');
  });

  it('follows every message to its texts, or knows why it cannot', () => {
    const unresolved = scan.unresolved.map((u) => `${u.at.replace(/:\d+$/, '')} ${u.expression}`);
    expect(unresolved.filter((u) => NOT_LITERAL[u] === undefined)).toEqual([]);
  });

  it('has a Vietnamese text for every detail and issue message in the sources', () => {
    const missing = scan.sites
      .filter((s) => !(COMPOSED.has(file(s)) && /^\{\}: \{\}$/.test(s.shape)))
      .filter((s) => messageVi(sample(s.shape)) === undefined)
      .map((s) => `${s.at}: ${s.shape}`);
    expect([...new Set(missing)]).toEqual([]);
  });

  it('leaves no English phrase in a translation', () => {
    const english = scan.sites
      .map((s) => [s, messageVi(sample(s.shape))] as const)
      .filter(([, vi]) => vi !== undefined && ENGLISH.test(vi))
      .map(([s, vi]) => `${s.at}: ${s.shape} → ${vi}`);
    expect([...new Set(english)]).toEqual([]);
  });

  it('keeps the catalogue well-formed: unique English, the same placeholders in both languages', () => {
    const seen = new Set<string>();
    for (const [en, vi] of MESSAGE_CATALOGUE_VI) {
      expect(seen.has(en)).toBe(false);
      seen.add(en);
      const holes = (t: string) => [...t.matchAll(/\{(\d)\}/g)].map((m) => m[1]).sort();
      expect([en, holes(vi)]).toEqual([en, holes(en)]);
      expect(en.replace(/\{\d\}/g, '').replace(/[^A-Za-z]/g, '').length).toBeGreaterThan(2);
    }
  });
});
