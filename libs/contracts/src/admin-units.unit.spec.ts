import { readFileSync } from 'node:fs';
import { AdminUnits, ADMIN_UNITS_SAMPLE_FILE, type AdminUnitsJson } from './admin-units.js';
import { findRepoFile } from './schemas.js';

const OFFICIAL_FILE = findRepoFile('../shared/data/admin-units-2025.json');

describe('AdminUnits: the official list', () => {
  const units = AdminUnits.load(OFFICIAL_FILE);

  it('has 34 provinces and 3,321 communes', () => {
    expect(units.provinceCount).toBe(34);
    expect(units.communeCount).toBe(3321);
    expect(units.provinces()).toHaveLength(34);
  });

  it('finds the examples used in the press', () => {
    expect(units.commune('21040')).toEqual({
      code: '21040',
      name: 'Xã Bình Sơn',
      type: 'xã',
      provinceCode: '51',
    });
    expect(units.provinceOfCommune('21040')).toBe('51');
    expect(units.province('08')?.name).toBe('Tỉnh Tuyên Quang');
    expect(units.province('91')?.name).toBe('Tỉnh An Giang');
    expect(units.province('52')?.name).toBe('Tỉnh Gia Lai');
  });
});

describe('AdminUnits: the shipped sample', () => {
  const sample = AdminUnits.sample();
  const official = AdminUnits.load(OFFICIAL_FILE);

  it('says it is a sample and is much smaller than the official list', () => {
    expect(sample.source).toMatch(/^SAMPLE ONLY/);
    expect(sample.source).toContain('AdminUnits.load');
    expect(sample.provinces().map((p) => p.code)).toEqual(['01', '08', '51', '52', '79', '91']);
    expect(sample.communeCount).toBeLessThanOrEqual(6 * 8);
  });

  it('copies every entry unchanged from the official list, in NFC', () => {
    const raw = readFileSync(findRepoFile(ADMIN_UNITS_SAMPLE_FILE), 'utf8');
    expect(raw.normalize('NFC')).toBe(raw);
    for (const province of sample.provinces()) {
      expect(official.province(province.code)).toEqual(province);
      for (const commune of sample.communesOf(province.code)) {
        expect(official.commune(commune.code)).toEqual(commune);
      }
    }
    expect(sample.commune('21040')?.provinceCode).toBe('51');
  });
});

describe('AdminUnits: lookups', () => {
  const json: AdminUnitsJson = {
    source: 'test',
    provinces: [
      {
        code: '51',
        name: 'Tỉnh Quảng Ngãi',
        type: 'tỉnh',
        communes: [{ code: '21040', name: 'Xã Bình Sơn', type: 'xã' }],
      },
      { code: '08', name: 'Tỉnh Tuyên Quang', type: 'tỉnh', communes: [] },
    ],
  };
  const units = AdminUnits.fromJson(json);

  it('answers for known and unknown codes', () => {
    expect(units.hasProvince('51')).toBe(true);
    expect(units.hasProvince('5')).toBe(false);
    expect(units.province('99')).toBeUndefined();
    expect(units.commune('99999')).toBeUndefined();
    expect(units.provinceOfCommune('99999')).toBeUndefined();
    expect(units.communesOf('08')).toEqual([]);
    expect(units.communesOf('99')).toEqual([]);
  });

  it('normalises names to NFC', () => {
    const nfd = AdminUnits.fromJson({
      source: 'nfd',
      provinces: [
        { code: '51', name: 'Ti\u0309nh Qua\u0309ng Nga\u0303i', type: 'ti\u0309nh', communes: [] },
      ],
    });
    expect(nfd.province('51')).toEqual({ code: '51', name: 'Tỉnh Quảng Ngãi', type: 'tỉnh' });
  });
});

describe('AdminUnits.fromJson: shape errors', () => {
  const province = (communes: unknown[] = []) => ({
    code: '51',
    name: 'Tỉnh Quảng Ngãi',
    type: 'tỉnh',
    communes,
  });

  it.each([
    ['not an object', [], 'expected an object'],
    ['no source', { provinces: [province()] }, '$.source must be a non-empty string'],
    ['no provinces', { source: 's', provinces: [] }, '$.provinces must be a non-empty array'],
    [
      'a 3-digit province',
      { source: 's', provinces: [{ ...province(), code: '051' }] },
      '$.provinces[0].code must be a string of 2 digits (got "051")',
    ],
    [
      'a province without name',
      { source: 's', provinces: [{ ...province(), name: '' }] },
      '$.provinces[0].name',
    ],
    [
      'communes not an array',
      { source: 's', provinces: [{ ...province(), communes: {} }] },
      '$.provinces[0].communes must be an array',
    ],
    [
      'a numeric commune code',
      { source: 's', provinces: [province([{ code: 21040, name: 'Xã Bình Sơn', type: 'xã' }])] },
      '$.provinces[0].communes[0].code must be a string of 5 digits (got 21040)',
    ],
    [
      'a repeated province',
      { source: 's', provinces: [province(), province()] },
      '$.provinces[1].code 51 appears twice',
    ],
    [
      'a repeated commune',
      {
        source: 's',
        provinces: [
          province([{ code: '21040', name: 'Xã Bình Sơn', type: 'xã' }]),
          { code: '01', name: 'Hà Nội', type: 'tp', communes: [{ code: '21040', name: 'X', type: 'xã' }] },
        ],
      },
      '$.provinces[1].communes[0].code 21040 appears twice (also in province 51)',
    ],
  ])('names what is wrong: %s', (_case, obj, message) => {
    expect(() => AdminUnits.fromJson(obj)).toThrow(message);
  });

  it('names the file it cannot read', () => {
    expect(() => AdminUnits.load('/nonexistent/units.json')).toThrow('/nonexistent/units.json');
  });
});
