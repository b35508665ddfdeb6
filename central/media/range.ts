/**
 * The one HTTP `Range` form media players send: a single byte range
 * (`bytes=a-b`, `bytes=a-`, `bytes=-n`). Anything else is answered with the
 * whole file (a missing or multi-range header) or 416 (a range outside it).
 */
export type RangeResult =
  | { kind: 'whole' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable'; reason: string };

const MAX_HEADER = 200;

export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined || header === '') return { kind: 'whole' };
  if (header.length > MAX_HEADER) return { kind: 'unsatisfiable', reason: 'Range header too long' };
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) {
    // several ranges, or another unit: serving the whole file is allowed (RFC 9110 §14.2)
    return /^\s*bytes\s*=.*,/.test(header)
      ? { kind: 'whole' }
      : { kind: 'unsatisfiable', reason: `cannot read Range '${header}'` };
  }
  const [, a, b] = m as unknown as [string, string, string];
  if (a === '' && b === '') return { kind: 'unsatisfiable', reason: 'an empty range' };
  if (size === 0) return { kind: 'unsatisfiable', reason: 'the file is empty' };
  if (a === '') {
    // the last n bytes
    const n = Number(b);
    if (!Number.isSafeInteger(n) || n === 0)
      return { kind: 'unsatisfiable', reason: 'a zero-length suffix range' };
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) {
    return { kind: 'unsatisfiable', reason: 'range bounds out of range' };
  }
  if (start >= size)
    return { kind: 'unsatisfiable', reason: `range starts at ${start}, the file has ${size} bytes` };
  // last < first makes the header invalid, and an invalid Range is ignored (RFC 9110 §14.2)
  if (b !== '' && Number(b) < start) return { kind: 'whole' };
  return { kind: 'partial', start, end };
}
