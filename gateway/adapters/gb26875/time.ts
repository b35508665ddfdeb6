/**
 * The 6-byte time label of GB/T 26875.3-2011 (时间标签): second, minute,
 * hour, day, month, year, each one plain binary byte (not BCD), the year
 * counted from 2000 (0..99). The same layout is used in the frame header and
 * at the end of most information objects.
 *
 * The standard gives no time zone: devices keep local time. We convert with
 * a fixed offset (default UTC+8, China Standard Time, which has no DST).
 */

export interface Gb26875Time {
  second: number;
  minute: number;
  hour: number;
  day: number;
  month: number;
  /** Full year, 2000..2099. */
  year: number;
}

export const TIME_BYTES = 6;
export const DEFAULT_TZ_OFFSET_MIN = 480;

export function readTime(buf: Buffer, offset: number): Gb26875Time {
  return {
    second: buf[offset] ?? 0,
    minute: buf[offset + 1] ?? 0,
    hour: buf[offset + 2] ?? 0,
    day: buf[offset + 3] ?? 0,
    month: buf[offset + 4] ?? 0,
    year: 2000 + (buf[offset + 5] ?? 0),
  };
}

export function writeTime(t: Gb26875Time, buf: Buffer, offset: number): void {
  buf[offset] = t.second & 0xff;
  buf[offset + 1] = t.minute & 0xff;
  buf[offset + 2] = t.hour & 0xff;
  buf[offset + 3] = t.day & 0xff;
  buf[offset + 4] = t.month & 0xff;
  buf[offset + 5] = (t.year - 2000) & 0xff;
}

/** True when every field is in range and the date exists (no 31 February). */
export function isValidTime(t: Gb26875Time): boolean {
  if (t.second > 59 || t.minute > 59 || t.hour > 23) return false;
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.year < 2000 || t.year > 2099) return false;
  const d = new Date(Date.UTC(t.year, t.month - 1, t.day));
  return d.getUTCDate() === t.day;
}

/** Epoch ms of a device-local time, or null when the label is not a valid date. */
export function timeToEpoch(t: Gb26875Time, tzOffsetMin = DEFAULT_TZ_OFFSET_MIN): number | null {
  if (!isValidTime(t)) return null;
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second) - tzOffsetMin * 60_000;
}

/** Device-local time label for an epoch ms (years outside 2000..2099 are clamped). */
export function epochToTime(ms: number, tzOffsetMin = DEFAULT_TZ_OFFSET_MIN): Gb26875Time {
  const d = new Date(ms + tzOffsetMin * 60_000);
  return {
    second: d.getUTCSeconds(),
    minute: d.getUTCMinutes(),
    hour: d.getUTCHours(),
    day: d.getUTCDate(),
    month: d.getUTCMonth() + 1,
    year: Math.min(2099, Math.max(2000, d.getUTCFullYear())),
  };
}

export function timeKey(t: Gb26875Time): string {
  return [t.year, t.month, t.day, t.hour, t.minute, t.second].join('.');
}
