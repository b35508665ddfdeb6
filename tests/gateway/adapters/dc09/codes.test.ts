import { describe, expect, it } from 'vitest';
import {
  contactIdChecksum,
  formatAdmCidData,
  parseAdmCidData,
  parseContactId,
} from '../../../../gateway/adapters/dc09/contact-id.js';
import { decodeEvents } from '../../../../gateway/adapters/dc09/decode.js';
import { mapContactId, mapSia } from '../../../../gateway/adapters/dc09/mapping.js';
import { formatSiaData, parseSiaData } from '../../../../gateway/adapters/dc09/sia.js';

describe('Contact ID', () => {
  it('parses the ADM-CID data block with and without account', () => {
    expect(parseAdmCidData('#12345A|1110 00 129')).toEqual({
      account: '12345A',
      qualifier: 'new',
      code: '110',
      group: 0,
      zone: 129,
    });
    expect(parseAdmCidData('3401 02 007')).toEqual({ qualifier: 'restore', code: '401', group: 2, zone: 7 });
    expect(parseAdmCidData('6302 01 000')).toMatchObject({ qualifier: 'status', code: '302' });
  });

  it('refuses bad qualifiers and shapes', () => {
    for (const bad of ['2110 00 129', '1110 00 12', 'E110 00 129', '', '#12|1110 00 129', '1110-00-129']) {
      expect(() => parseAdmCidData(bad)).toThrow(expect.objectContaining({ code: 'DC09_BAD_CID' }));
    }
  });

  it('formats what it parses', () => {
    const ev = { qualifier: 'restore' as const, code: '110', group: 1, zone: 15 };
    expect(formatAdmCidData(ev, '1234')).toBe('#1234|3110 01 015');
    expect(parseAdmCidData(formatAdmCidData(ev))).toEqual(ev);
    expect(() => formatAdmCidData({ ...ev, zone: 1000 })).toThrow(/zone/);
  });

  it('verifies the DC-05 checksum of a raw message', () => {
    // 1234 18 1131 01 015 + S: digit sum must be a multiple of 15 (0 counts 10)
    const digits = '123418113101015';
    const s = contactIdChecksum(digits);
    const raw = `${digits}${s}`;
    let sum = 0;
    for (const c of raw) sum += c === '0' ? 10 : Number.parseInt(c, 16);
    expect(sum % 15).toBe(0);
    expect(parseContactId(`1234 18 1131 01 015 ${s}`)).toMatchObject({
      account: '1234',
      messageType: '18',
      qualifier: 'new',
      code: '131',
      group: 1,
      zone: 15,
    });
    const wrong = ((Number.parseInt(s, 16) % 15) + 1).toString(16).toUpperCase();
    expect(() => parseContactId(`${digits}${wrong}`)).toThrow(/checksum/);
  });
});

describe('SIA-DCS data', () => {
  it('parses the common shapes', () => {
    expect(parseSiaData('#12345A|NFA129')).toEqual({
      account: '12345A',
      old: false,
      events: [{ code: 'FA', address: 129, area: null, user: null }],
    });
    expect(parseSiaData('#1234|Nri1/FA101').events).toEqual([
      { code: 'FA', address: 101, area: 1, user: null },
    ]);
    expect(parseSiaData('|Nri1/CL501').events[0]).toMatchObject({ code: 'CL', address: 501, area: 1 });
    expect(parseSiaData('Nri1/WA000').events[0]).toMatchObject({ code: 'WA', address: 0 });
    expect(parseSiaData('#123456|Nri1CL0^VX FRONTE ^').events[0]).toMatchObject({
      code: 'CL',
      address: 0,
      area: 1,
      text: 'VX FRONTE',
    });
  });

  it('applies modifiers to the events after them and reads several events', () => {
    const b = parseSiaData('#AB12|Nti12:30/ri2/id7/OP/ri3/BA005/BA006');
    expect(b.events).toEqual([
      { code: 'OP', address: null, area: 2, user: 7, time: '12:30' },
      { code: 'BA', address: 5, area: 3, user: 7, time: '12:30' },
      { code: 'BA', address: 6, area: 3, user: 7, time: '12:30' },
    ]);
    expect(parseSiaData('Ori1/FA1').old).toBe(true);
    expect(parseSiaData('NA000').events[0]?.code).toBe('NA'); // "No activity", not a block function
  });

  it('refuses junk', () => {
    for (const bad of ['', '#1234|', 'N', 'Nri1/', 'N12/FA1', 'NFA1^open', 'N^x^FA1', 'Nri1/F']) {
      expect(() => parseSiaData(bad)).toThrow(expect.objectContaining({ code: 'DC09_BAD_SIA' }));
    }
  });

  it('formats what it parses', () => {
    const s = formatSiaData({ code: 'BA', address: 5, area: 2, user: 3 }, '1234');
    expect(s).toBe('#1234|Nri2/id3/BA005');
    expect(parseSiaData(s).events[0]).toEqual({ code: 'BA', address: 5, area: 2, user: 3 });
  });
});

describe('mapping to panel events', () => {
  const cid = (q: 'new' | 'restore' | 'status', code: string, zone = 1) =>
    mapContactId({ qualifier: q, code, group: 1, zone });

  it.each([
    ['100', 'medical'],
    ['101', 'medical'],
    ['110', 'fire'],
    ['111', 'fire'],
    ['120', 'panic'],
    ['121', 'duress'],
    ['130', 'burglary'],
    ['131', 'burglary'],
    ['137', 'trouble'],
    ['301', 'trouble'],
    ['302', 'trouble'],
    ['350', 'trouble'],
    ['401', 'open_close'],
    ['441', 'open_close'],
    ['602', 'test'],
    ['601', 'test'],
    ['570', 'other'],
    ['999', 'other'],
  ])('Contact ID %s -> %s', (code, category) => {
    expect(cid('new', code).category).toBe(category);
  });

  it('maps Contact ID qualifiers and keeps zone and partition', () => {
    expect(cid('new', '110', 12)).toMatchObject({
      qualifier: 'new',
      zone: 12,
      partition: 1,
      code: '110',
      source: 'cid',
      description: 'Fire alarm',
    });
    expect(cid('restore', '110')).toMatchObject({ qualifier: 'restore', description: 'Fire alarm restored' });
    expect(cid('status', '302')).toMatchObject({
      qualifier: 'still_present',
      description: 'Low system battery',
    });
    expect(cid('restore', '401', 7)).toMatchObject({ category: 'open_close', zone: null, user: 7 });
    expect(cid('restore', '401', 7).description).toMatch(/^Close/);
    expect(cid('new', '401', 7).description).toMatch(/^Open/);
  });

  const sia = (code: string, address: number | null = 3) => mapSia({ code, address, area: 2, user: null });

  it.each([
    ['FA', 'fire', 'new'],
    ['FH', 'fire', 'restore'],
    ['MA', 'medical', 'new'],
    ['MH', 'medical', 'restore'],
    ['PA', 'panic', 'new'],
    ['HA', 'duress', 'new'],
    ['HH', 'duress', 'restore'],
    ['BA', 'burglary', 'new'],
    ['BH', 'burglary', 'restore'],
    ['AT', 'trouble', 'new'],
    ['AR', 'trouble', 'restore'],
    ['YT', 'trouble', 'new'],
    ['YR', 'trouble', 'restore'],
    ['TA', 'trouble', 'new'],
    ['OP', 'open_close', 'new'],
    ['CL', 'open_close', 'restore'],
    ['RP', 'test', 'new'],
    ['ZZ', 'other', 'new'],
  ])('SIA %s -> %s / %s', (code, category, qualifier) => {
    expect(sia(code)).toMatchObject({ category, qualifier, code, source: 'sia' });
  });

  it('reads the SIA address as zone, or as user for open/close', () => {
    expect(sia('FA', 101)).toMatchObject({ zone: 101, partition: 2 });
    expect(sia('OP', 7)).toMatchObject({ zone: null, user: 7, description: 'Opening (disarmed), user 7' });
    expect(sia('ZZ').description).toBe('SIA event ZZ');
  });

  it('decodes whole frames', () => {
    expect(decodeEvents({ id: 'NULL', data: '' })).toEqual([]);
    expect(decodeEvents({ id: 'ADM-CID', data: '#1234|1110 01 015' })).toEqual([
      expect.objectContaining({ category: 'fire', zone: 15, partition: 1 }),
    ]);
    expect(decodeEvents({ id: 'SIA-DCS', data: '#1234|Nri1/FA101/MA002' }).map((e) => e.category)).toEqual([
      'fire',
      'medical',
    ]);
  });
});
