/**
 * DC-09 timestamps: `_HH:MM:SS,MM-DD-YYYY`, always UTC (the standard says
 * GMT). Used in messages (mandatory when encrypted) and in NAK / encrypted
 * ACK replies, where the receiver tells the panel its own clock.
 */

export const TIMESTAMP_LENGTH = 20;
const TS_RE = /^_(\d{2}):(\d{2}):(\d{2}),(\d{2})-(\d{2})-(\d{4})$/;

const two = (n: number): string => String(n).padStart(2, '0');

/** Formats epoch milliseconds as `_HH:MM:SS,MM-DD-YYYY` (UTC). */
export function formatTimestamp(ms: number): string {
  const d = new Date(ms);
  return (
    `_${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())},` +
    `${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}-${String(d.getUTCFullYear()).padStart(4, '0')}`
  );
}

/** True when the text has the shape of a DC-09 timestamp (values not checked). */
export function looksLikeTimestamp(text: string): boolean {
  return TS_RE.test(text);
}

/**
 * Parses a DC-09 timestamp to epoch milliseconds, or null when the text is
 * not one or names an impossible date/time (month 13, 31 February, 25:00...).
 */
export function parseTimestamp(text: string): number | null {
  const m = TS_RE.exec(text);
  if (!m) return null;
  const [hh, mi, ss, mo, dd, yyyy] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (hh > 23 || mi > 59 || ss > 59 || mo < 1 || mo > 12 || dd < 1 || yyyy < 1970) return null;
  const ms = Date.UTC(yyyy, mo - 1, dd, hh, mi, ss);
  // Date.UTC rolls 31-02 over into March: reject instead of guessing.
  if (new Date(ms).getUTCDate() !== dd) return null;
  return ms;
}
