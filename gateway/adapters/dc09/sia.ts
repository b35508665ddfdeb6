import { CarewatchError } from '../../../lib/errors.js';

/**
 * SIA-DCS data blocks (SIA DC-03 "SIA format" as carried by DC-09):
 *
 *   [#acct|Nri1/FA101]        new event, area 1, fire alarm zone 101
 *   [#acct|Nri1/id7/OP]       opening by user 7 in area 1
 *   [#acct|Nri2/BA005/BA006]  two burglary zones
 *   [#acct|Nri1CL0^TEXT^]     fields without `/`, with a text note
 *
 * After the optional `#acct|` (or bare `|`): `N` (new event) or `O` (old,
 * buffered event), then a run of elements separated by optional `/`:
 * lowercase modifiers that apply to the events after them (`ri` area,
 * `id` user, `ti` time HH:MM, `pi` peripheral, others kept as-is), and
 * uppercase two-letter event codes followed by an optional address number
 * (zone, user or area depending on the code). `^...^` is text for the
 * event before it.
 */

export interface SiaEvent {
  /** Two-letter event code, e.g. `FA`. */
  code: string;
  /** Address number after the code (zone/point, user or area by code), or null. */
  address: number | null;
  /** Area / partition (`ri`) in force, or null. */
  area: number | null;
  /** User (`id`) in force, or null. */
  user: number | null;
  /** Panel time (`ti`, HH:MM) in force. */
  time?: string;
  text?: string;
  /** Other modifiers in force (`pi`, ...). */
  modifiers?: Record<string, string>;
}

export interface SiaBlock {
  account?: string;
  /** `O` block: events the panel had buffered. */
  old: boolean;
  events: SiaEvent[];
}

function bad(message: string, data: string): CarewatchError {
  return new CarewatchError('DC09_BAD_SIA', message, { data: data.slice(0, 64) });
}

const MAX_EVENTS = 32;

/** Parses the data block of a `SIA-DCS` message. */
export function parseSiaData(data: string): SiaBlock {
  let s = data;
  let account: string | undefined;
  const acct = /^#([0-9A-Fa-f]{3,16})\|/.exec(s);
  if (acct) {
    account = acct[1]?.toUpperCase();
    s = s.slice(acct[0].length);
  } else if (s.startsWith('|')) {
    s = s.slice(1);
  }
  let old = false;
  if (s.startsWith('N') || s.startsWith('O')) {
    // `N`/`O` followed by a lowercase modifier or `/`: the block function.
    // (`NA`, `OP`... alone are event codes, so look at the next char.)
    const next = s[1] ?? '';
    if (next === '/' || /[a-z]/.test(next) || (/[A-Z]/.test(next) && /[A-Z]/.test(s[2] ?? ''))) {
      old = s[0] === 'O';
      s = s.slice(1);
    }
  }
  const events: SiaEvent[] = [];
  let area: number | null = null;
  let user: number | null = null;
  let time: string | undefined;
  const mods: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const c = s[i] ?? '';
    if (c === '/') {
      i++;
      continue;
    }
    if (c === '^') {
      const end = s.indexOf('^', i + 1);
      if (end < 0) throw bad('SIA text ^...^ is not closed', data);
      const last = events[events.length - 1];
      if (!last) throw bad('SIA text ^...^ before any event code', data);
      last.text = s.slice(i + 1, end).trim();
      i = end + 1;
      continue;
    }
    const pair = s.slice(i, i + 2);
    if (/^[a-z]{2}$/.test(pair)) {
      const rest = s.slice(i + 2);
      const v = pair === 'ti' ? /^\d{2}:\d{2}/.exec(rest) : /^\d{0,8}/.exec(rest);
      if (!v || (pair === 'ti' && !v[0])) throw bad(`SIA modifier ${pair} has no valid value`, data);
      const value = v[0];
      if (pair === 'ri') area = value ? Number.parseInt(value, 10) : null;
      else if (pair === 'id') user = value ? Number.parseInt(value, 10) : null;
      else if (pair === 'ti') time = value;
      else mods[pair] = value;
      i += 2 + value.length;
      continue;
    }
    if (/^[A-Z]{2}$/.test(pair)) {
      const addr = /^\d{0,6}/.exec(s.slice(i + 2))?.[0] ?? '';
      if (events.length >= MAX_EVENTS) throw bad(`more than ${MAX_EVENTS} events in one SIA block`, data);
      events.push({
        code: pair,
        address: addr ? Number.parseInt(addr, 10) : null,
        area,
        user,
        ...(time ? { time } : {}),
        ...(Object.keys(mods).length ? { modifiers: { ...mods } } : {}),
      });
      i += 2 + addr.length;
      continue;
    }
    throw bad(`unexpected "${s.slice(i, i + 8)}" in SIA data at offset ${i}`, data);
  }
  if (events.length === 0) throw bad('SIA data block has no event code', data);
  return { ...(account ? { account } : {}), old, events };
}

/** Builds a SIA-DCS data block: `#acct|N[ri<area>/][id<user>/]<CODE><address>`. */
export function formatSiaData(
  ev: { code: string; address?: number | null; area?: number | null; user?: number | null; text?: string },
  account?: string,
): string {
  if (!/^[A-Z]{2}$/.test(ev.code))
    throw bad(`SIA code must be two uppercase letters, got "${ev.code}"`, ev.code);
  let s = 'N';
  if (ev.area !== undefined && ev.area !== null) s += `ri${ev.area}/`;
  if (ev.user !== undefined && ev.user !== null) s += `id${ev.user}/`;
  s += ev.code;
  if (ev.address !== undefined && ev.address !== null) s += String(ev.address).padStart(3, '0');
  if (ev.text) s += `^${ev.text.replace(/[\^[\]|]/g, ' ')}^`;
  return account ? `#${account}|${s}` : s;
}
