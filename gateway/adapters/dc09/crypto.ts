import { createCipheriv, createDecipheriv, randomInt } from 'node:crypto';
import { CarewatchError } from '../../../lib/errors.js';

/**
 * DC-09 encryption (ANSI/SIA DC-09-2013 §5.4): AES in CBC mode, key of 128,
 * 192 or 256 bits shared per account, initialisation vector all zeros, no
 * PKCS padding. What is encrypted is everything after the opening `[` of the
 * data block through the end of the timestamp:
 *
 *     <pad>|<data>]<x-data...><timestamp>
 *
 * `<pad>` is pseudo-random printable filler (never `|`, `[` or `]`) sized so
 * the plaintext is a whole number of 16-byte blocks; the `|` marks where the
 * pad ends. The ciphertext travels as uppercase ASCII hex right after `[`
 * and runs to <CR> (there is no closing `]` outside the ciphertext).
 *
 * Some panels omit the `|` after the pad of a `NULL` or `ACK` block (the pad
 * then runs up to the `]`); `unpad` accepts both.
 */

export const AES_BLOCK = 16;
const IV = Buffer.alloc(AES_BLOCK, 0);
const PAD_ALPHABET = (() => {
  let s = '';
  for (let c = 0x21; c <= 0x7e; c++) {
    const ch = String.fromCharCode(c);
    if (ch !== '|' && ch !== '[' && ch !== ']') s += ch;
  }
  return s;
})();

/** Parses a hex key of 32, 48 or 64 hex digits (AES-128/192/256). */
export function parseKey(hex: string): Buffer {
  if (!/^[0-9a-fA-F]+$/.test(hex) || ![32, 48, 64].includes(hex.length)) {
    throw new CarewatchError(
      'DC09_BAD_KEY',
      `DC-09 key must be 32, 48 or 64 hex digits (AES-128/192/256), got ${hex.length} characters`,
      { length: hex.length },
    );
  }
  return Buffer.from(hex, 'hex');
}

function algorithm(key: Buffer): string {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new CarewatchError('DC09_BAD_KEY', `DC-09 key must be 16, 24 or 32 bytes, got ${key.length}`);
  }
  return `aes-${key.length * 8}-cbc`;
}

/** Number of pad characters that make `<pad>|<body>` a whole number of blocks. */
export function padLength(body: string): number {
  return (AES_BLOCK - ((body.length + 1) % AES_BLOCK)) % AES_BLOCK;
}

/** Prepends `<pad>|` to `body` (random pad unless `rand` is given). */
export function pad(body: string, rand: (n: number) => number = randomInt): string {
  let p = '';
  for (let i = padLength(body); i > 0; i--) p += PAD_ALPHABET[rand(PAD_ALPHABET.length)] ?? 'A';
  return `${p}|${body}`;
}

/**
 * Removes the pad: returns what follows the first `|`, or, when there is no
 * `|` before the first `]`, the text from that `]` on. Null when neither.
 */
export function unpad(plain: string): string | null {
  const bar = plain.indexOf('|');
  const close = plain.indexOf(']');
  if (bar >= 0 && (close < 0 || bar < close)) return plain.slice(bar + 1);
  if (close >= 0) return plain.slice(close);
  return null;
}

/** Encrypts an ASCII plaintext whose length is a multiple of 16; returns uppercase hex. */
export function encryptHex(key: Buffer, plaintext: string): string {
  if (plaintext.length % AES_BLOCK !== 0) {
    throw new CarewatchError(
      'DC09_BAD_BLOCK',
      `DC-09 plaintext must be a multiple of 16 bytes, got ${plaintext.length} (pad it first)`,
    );
  }
  const c = createCipheriv(algorithm(key), key, IV);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(Buffer.from(plaintext, 'latin1')), c.final()])
    .toString('hex')
    .toUpperCase();
}

/**
 * Decrypts uppercase or lowercase hex ciphertext. Throws DC09_DECRYPT_FAILED
 * when the text is not whole AES blocks of hex; the caller judges whether
 * the plaintext makes sense (a wrong key yields noise, not an exception).
 */
export function decryptHex(key: Buffer, hex: string): string {
  if (hex.length === 0 || hex.length % (AES_BLOCK * 2) !== 0 || !/^[0-9A-Fa-f]+$/.test(hex)) {
    throw new CarewatchError(
      'DC09_DECRYPT_FAILED',
      `DC-09 encrypted block must be whole 16-byte AES blocks in hex, got ${hex.length} characters`,
      { length: hex.length },
    );
  }
  const d = createDecipheriv(algorithm(key), key, IV);
  d.setAutoPadding(false);
  return Buffer.concat([d.update(Buffer.from(hex, 'hex')), d.final()]).toString('latin1');
}

/** Pads and encrypts a block body (`<data>]<x-data><timestamp>`). */
export function encryptBody(key: Buffer, body: string, rand?: (n: number) => number): string {
  return encryptHex(key, pad(body, rand));
}
