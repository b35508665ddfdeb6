import { describe, expect, it } from 'vitest';
import {
  decryptHex,
  encryptBody,
  encryptHex,
  pad,
  padLength,
  parseKey,
  unpad,
} from '../../../../gateway/adapters/dc09/crypto.js';

// FIPS-197 appendix C known answers. With the all-zero IV of DC-09, the first
// CBC block is the plain AES encryption of the first plaintext block.
const PT = Buffer.from('00112233445566778899aabbccddeeff', 'hex').toString('latin1');
const KAT = [
  { key: '000102030405060708090a0b0c0d0e0f', ct: '69C4E0D86A7B0430D8CDB78070B4C55A' },
  { key: '000102030405060708090a0b0c0d0e0f1011121314151617', ct: 'DDA97CA4864CDFE06EAF70A0EC0D7191' },
  {
    key: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
    ct: '8EA2B7CA516745BFEAFC49904B496089',
  },
];

describe('DC-09 AES-CBC', () => {
  it.each(KAT)('matches FIPS-197 for a $key.length-hex-digit key', ({ key, ct }) => {
    expect(encryptHex(parseKey(key), PT)).toBe(ct);
    expect(decryptHex(parseKey(key), ct)).toBe(PT);
  });

  it('accepts only 128/192/256-bit hex keys', () => {
    expect(() => parseKey('00'.repeat(15))).toThrow(/32, 48 or 64/);
    expect(() => parseKey('zz'.repeat(16))).toThrow(expect.objectContaining({ code: 'DC09_BAD_KEY' }));
    expect(parseKey('AB'.repeat(24)).length).toBe(24);
  });

  it('pads to whole blocks with printable filler that is never | [ ]', () => {
    for (let len = 0; len < 40; len++) {
      const body = `${'x'.repeat(len)}]`;
      const p = pad(body);
      expect(p.length % 16).toBe(0);
      expect(p.length - body.length - 1).toBe(padLength(body));
      const filler = p.slice(0, p.indexOf('|'));
      expect(filler).toMatch(/^[\x21-\x7e]*$/);
      expect(filler).not.toMatch(/[|[\]]/);
      expect(unpad(p)).toBe(body);
    }
  });

  it('unpads blocks whose pad has no | (pad runs up to the ])', () => {
    expect(unpad('000000000]_12:00:00,01-15-2026')).toBe(']_12:00:00,01-15-2026');
    expect(unpad('abc')).toBeNull();
  });

  it('round-trips a body and refuses ciphertext that is not whole hex blocks', () => {
    const key = parseKey('11'.repeat(32));
    const hex = encryptBody(key, '#1234|Nri1/FA101]_12:00:00,01-15-2026');
    expect(hex).toMatch(/^[0-9A-F]+$/);
    expect(unpad(decryptHex(key, hex))).toBe('#1234|Nri1/FA101]_12:00:00,01-15-2026');
    expect(() => decryptHex(key, hex.slice(2))).toThrow(
      expect.objectContaining({ code: 'DC09_DECRYPT_FAILED' }),
    );
    expect(() => decryptHex(key, `${hex.slice(0, -1)}G`)).toThrow(/whole 16-byte/);
    expect(() => encryptHex(key, 'short')).toThrow(expect.objectContaining({ code: 'DC09_BAD_BLOCK' }));
  });
});
