import { languageOfRawRequest, negotiateLanguage } from './language.js';

describe('negotiateLanguage (Accept-Language)', () => {
  it.each([
    [undefined, 'en'],
    ['', 'en'],
    ['vi', 'vi'],
    ['VI', 'vi'],
    ['vi-VN', 'vi'],
    ['vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7', 'vi'],
    ['en-US,en;q=0.9,vi;q=0.8', 'en'],
    ['en;q=0.5, vi;q=0.8', 'vi'],
    ['vi;q=0.5, en;q=0.8', 'en'],
    ['fr, vi;q=0.1', 'vi'],
    ['fr, de', 'en'],
    ['*', 'en'],
    ['vi;q=0, *', 'en'],
    ['en;q=0, *;q=0.5', 'vi'],
    ['vi;q=0', 'en'],
    ['en, vi', 'en'],
    ['vi, en', 'vi'],
    ['vi;q=1.5', 'en'],
    ['vi;q=abc, en;q=0.1', 'en'],
    ['v i, vi-VN;q=0.9', 'vi'],
  ])('%j → %s', (header, language) => {
    expect(negotiateLanguage(header)).toBe(language);
  });

  it('reads a header given twice as one list', () => {
    expect(negotiateLanguage(['en;q=0.2', 'vi'])).toBe('vi');
  });

  it('finds the header in the bytes of a request the parser refused', () => {
    const raw = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nAccept-Language: vi-VN\r\nX: \0\r\n\r\n', 'latin1');
    expect(languageOfRawRequest(raw)).toBe('vi');
    expect(languageOfRawRequest(Buffer.from('GARBAGE\r\n\r\n'))).toBe('en');
    expect(languageOfRawRequest(undefined)).toBe('en');
  });
});
