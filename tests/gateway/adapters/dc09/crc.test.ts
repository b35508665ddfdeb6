import { describe, expect, it } from 'vitest';
import { crc16, crcHex } from '../../../../gateway/adapters/dc09/crc.js';
import { formatTimestamp, parseTimestamp } from '../../../../gateway/adapters/dc09/timestamp.js';

describe('DC-09 CRC-16', () => {
  it('matches the CRC-16/ARC check value for "123456789"', () => {
    expect(crc16('123456789')).toBe(0xbb3d);
    expect(crcHex('123456789')).toBe('BB3D');
  });

  it('reproduces the CRCs of the DC-09 standard example messages', () => {
    // Example frames of ANSI/SIA DC-09: 87CD0037"ADM-CID"... and CE110032"SIA-DCS"...
    expect(crcHex('"ADM-CID"9876R579BDFL789ABC#12345A[#12345A|1110 00 129]')).toBe('87CD');
    expect(crcHex('"SIA-DCS"9876R579BDFL789ABC#12345A[#12345A|NFA129]')).toBe('CE11');
  });

  it('is 0000 for empty input and always 4 uppercase hex chars', () => {
    expect(crcHex('')).toBe('0000');
    expect(crcHex(Buffer.from([0x01]))).toMatch(/^[0-9A-F]{4}$/);
    expect(crcHex('a')).toBe(crcHex(Buffer.from('a')));
  });
});

describe('DC-09 timestamps', () => {
  it('formats UTC as _HH:MM:SS,MM-DD-YYYY and parses it back', () => {
    const t = Date.UTC(2026, 0, 15, 12, 0, 5);
    expect(formatTimestamp(t)).toBe('_12:00:05,01-15-2026');
    expect(parseTimestamp('_12:00:05,01-15-2026')).toBe(t);
  });

  it('refuses impossible dates and wrong shapes', () => {
    expect(parseTimestamp('_12:00:00,02-31-2026')).toBeNull();
    expect(parseTimestamp('_24:00:00,01-01-2026')).toBeNull();
    expect(parseTimestamp('_12:00:00,13-01-2026')).toBeNull();
    expect(parseTimestamp('12:00:00,01-01-2026')).toBeNull();
    expect(parseTimestamp('_12:00:00,1-01-2026')).toBeNull();
  });
});
