/**
 * CRC-16 as used by SIA DC-07/DC-09: the "ARC" variant (polynomial 0x8005,
 * processed LSB-first, i.e. the reflected constant 0xA001), initial value 0,
 * no final XOR. DC-09 computes it over the ASCII bytes from the opening `"`
 * of the ID token up to and including the last character before <CR>, and
 * transmits it as four ASCII hex digits.
 */

const TABLE: Uint16Array = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

/** CRC-16 over bytes; a string is taken as latin1 (one byte per char). */
export function crc16(data: Uint8Array | string): number {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  let crc = 0;
  for (const b of bytes) crc = (crc >>> 8) ^ (TABLE[(crc ^ b) & 0xff] ?? 0);
  return crc & 0xffff;
}

/** The CRC rendered as DC-09 transmits it: 4 uppercase hex characters. */
export function crcHex(data: Uint8Array | string): string {
  return crc16(data).toString(16).toUpperCase().padStart(4, '0');
}
