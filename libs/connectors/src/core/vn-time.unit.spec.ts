import { formatVn, parseVn } from './vn-time.js';

// 2025-07-01 01:30:05 UTC = 08:30:05 in Vietnam; 2025-07-01 13:05:00 UTC = 20:05:00.
const MORNING = Date.UTC(2025, 6, 1, 1, 30, 5);
const EVENING = Date.UTC(2025, 6, 1, 13, 5, 0);

describe('Vietnam-local date formats', () => {
  it.each([
    ['portal', MORNING, '20250701083005'],
    ['legacy', MORNING, '01/07/2025 08:30:05'],
    ['dateOnly', MORNING, '01/07/2025'],
    ['dotted', MORNING, '01.07.2025'],
    ['iso', MORNING, '2025-07-01T08:30:05+07:00'],
    ['twelveHour', MORNING, '01/07/2025 08:30:05 AM'],
    ['twelveHour', EVENING, '01/07/2025 08:05:00 PM'],
  ] as const)('%s formats and parses back', (format, ms, text) => {
    expect(formatVn(ms, format)).toBe(text);
    expect(parseVn(text, format)).toBe(
      format === 'dateOnly' || format === 'dotted' ? Date.UTC(2025, 5, 30, 17) : ms,
    );
  });

  it('crosses the date line at 17:00 UTC', () => {
    expect(formatVn(Date.UTC(2025, 5, 30, 17, 0, 0), 'portal')).toBe('20250701000000');
  });

  it('treats 12 AM as midnight and 12 PM as noon', () => {
    expect(parseVn('01/07/2025 12:00:00 AM', 'twelveHour')).toBe(parseVn('01/07/2025 00:00:00', 'legacy'));
    expect(parseVn('01/07/2025 12:00:00 PM', 'twelveHour')).toBe(parseVn('01/07/2025 12:00:00', 'legacy'));
  });

  it.each([
    ['20250230083000', 'portal'],
    ['20251301000000', 'portal'],
    ['2025070108300', 'portal'],
    ['20250701243000', 'portal'],
    ['31/04/2025 08:00:00', 'legacy'],
    ['2025-07-01 08:00:00', 'legacy'],
    ['01/07/2025 13:00:00 PM', 'twelveHour'],
    ['2025-07-01T08:30:00Z', 'iso'],
    ['30.02.2025', 'dotted'],
    ['01/07/2025', 'dotted'],
    ['1.7.2025', 'dotted'],
    ['01.07.2025', 'dateOnly'],
  ] as const)('rejects %s as %s', (text, format) => {
    expect(parseVn(text, format)).toBeUndefined();
  });
});
