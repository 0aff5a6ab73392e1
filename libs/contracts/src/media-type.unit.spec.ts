import { isJsonMediaType, parseMediaType } from './media-type.js';

describe('parseMediaType', () => {
  it('lower-cases the essence and reads parameters', () => {
    const parsed = parseMediaType(' Application/CloudEvents+JSON ; Charset="UTF-8"; profile=X ');
    expect(parsed?.essence).toBe('application/cloudevents+json');
    expect([...(parsed?.parameters ?? [])]).toEqual([
      ['charset', 'utf-8'],
      ['profile', 'X'],
    ]);
  });

  it('returns undefined for what is not a media type', () => {
    for (const bad of ['', 'json', '/json', 'application/', 'application/json; charset', 'a b/c']) {
      expect(parseMediaType(bad)).toBeUndefined();
    }
  });
});

describe('isJsonMediaType', () => {
  it('accepts application/json and +json in UTF-8 only', () => {
    expect(isJsonMediaType('application/json')).toBe(true);
    expect(isJsonMediaType('application/problem+json; charset=utf-8')).toBe(true);
    expect(isJsonMediaType('application/json; charset=utf-16')).toBe(false);
    expect(isJsonMediaType('application/jsonx')).toBe(false);
    expect(isJsonMediaType('text/json')).toBe(false);
  });
});
