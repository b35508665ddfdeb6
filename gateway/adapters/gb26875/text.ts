import iconv from 'iconv-lite';

/**
 * Fixed-width text fields (部件说明, 31 bytes) are GB 18030 encoded
 * (GB/T 26875.3-2011 clause 2 refers to GB 18030-2005). Devices pad with NUL
 * bytes, some with spaces; both are trimmed on decode.
 */
export const PART_TEXT_BYTES = 31;

export function decodeText(bytes: Buffer): string {
  const nul = bytes.indexOf(0);
  const used = nul >= 0 ? bytes.subarray(0, nul) : bytes;
  return iconv.decode(used, 'gb18030').replace(/[\s\u3000]+$/u, '');
}

/**
 * Encodes into exactly `width` bytes, NUL padded. Text too long is cut at a
 * character boundary so no half character is ever sent.
 */
export function encodeText(text: string, width = PART_TEXT_BYTES): Buffer {
  const out = Buffer.alloc(width);
  let used = 0;
  for (const ch of text) {
    const b = iconv.encode(ch, 'gb18030');
    if (used + b.length > width) break;
    b.copy(out, used);
    used += b.length;
  }
  return out;
}
