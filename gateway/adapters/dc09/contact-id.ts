import { CarewatchError } from '../../../lib/errors.js';

/**
 * Ademco Contact ID (SIA DC-05): `ACCT MT Q XYZ GG CCC S`
 *   ACCT 4 digits, MT message type 18 (or 98), Q qualifier (1 new event or
 *   opening, 3 restore or closing, 6 previously reported condition still
 *   present), XYZ event code, GG group/partition, CCC zone or user number,
 *   S checksum digit.
 *
 * Inside DC-09 (`ADM-CID`) the data block drops MT and S and separates the
 * fields with spaces: `[#acct|QXYZ GG CCC]` (the `#acct|` part is optional).
 */

export type CidQualifier = 'new' | 'restore' | 'status';

export interface ContactIdEvent {
  /** Account from the data block, when it carries one. */
  account?: string;
  qualifier: CidQualifier;
  /** Three-digit event code, e.g. `110`. */
  code: string;
  /** Group / partition number (GG). */
  group: number;
  /** Zone or user number (CCC). */
  zone: number;
}

const QUALIFIERS: Record<string, CidQualifier> = { '1': 'new', '3': 'restore', '6': 'status' };
const QUALIFIER_DIGIT: Record<CidQualifier, string> = { new: '1', restore: '3', status: '6' };

const ADM_RE = /^(?:#([0-9A-Fa-f]{3,16})\|)?([136])([0-9A-Fa-f]{3}) ?([0-9A-Fa-f]{2}) ?([0-9A-Fa-f]{3})$/;

function bad(message: string, data: string): CarewatchError {
  return new CarewatchError('DC09_BAD_CID', message, { data: data.slice(0, 64) });
}

// Group and zone are decimal in practice; some panels send hex digits
// (B-F) there, which are read as hex rather than refused.
function num(s: string): number {
  return /^\d+$/.test(s) ? Number.parseInt(s, 10) : Number.parseInt(s, 16);
}

/** Parses the data block of an `ADM-CID` message (`#acct|QXYZ GG CCC`). */
export function parseAdmCidData(data: string): ContactIdEvent {
  const m = ADM_RE.exec(data.trim());
  if (!m) {
    throw bad(`ADM-CID data "${data.slice(0, 40)}" is not [#acct|]QXYZ GG CCC with Q in 1/3/6`, data);
  }
  const [, acct, q = '1', code = '', gg = '', ccc = ''] = m;
  return {
    ...(acct ? { account: acct.toUpperCase() } : {}),
    qualifier: QUALIFIERS[q] ?? 'new',
    code: code.toUpperCase(),
    group: num(gg),
    zone: num(ccc),
  };
}

/** Builds the `ADM-CID` data block for an event. */
export function formatAdmCidData(ev: Omit<ContactIdEvent, 'account'>, account?: string): string {
  if (!/^\d{3}$/.test(ev.code)) throw bad(`Contact ID code must be 3 digits, got "${ev.code}"`, ev.code);
  if (!Number.isInteger(ev.group) || ev.group < 0 || ev.group > 99)
    throw bad(`group ${ev.group} not in 0..99`, '');
  if (!Number.isInteger(ev.zone) || ev.zone < 0 || ev.zone > 999)
    throw bad(`zone ${ev.zone} not in 0..999`, '');
  const body = `${QUALIFIER_DIGIT[ev.qualifier]}${ev.code} ${String(ev.group).padStart(2, '0')} ${String(ev.zone).padStart(3, '0')}`;
  return account ? `#${account}|${body}` : body;
}

function digitValue(c: string): number {
  return c === '0' ? 10 : Number.parseInt(c, 16);
}

/** Checksum digit S that makes the DC-05 digit sum a multiple of 15. */
export function contactIdChecksum(digits15: string): string {
  let sum = 0;
  for (const c of digits15) sum += digitValue(c);
  const s = 15 - (sum % 15);
  return s === 10 ? '0' : s.toString(16).toUpperCase();
}

/**
 * Parses a raw DC-05 Contact ID message, `ACCT MT QXYZ GG CCC S`, with or
 * without spaces, and verifies its checksum (digit 0 counts 10; the sum of
 * all 16 digits is a multiple of 15).
 */
export function parseContactId(raw: string): ContactIdEvent & { account: string; messageType: string } {
  const digits = raw.replace(/\s+/g, '').toUpperCase();
  if (!/^[0-9A-F]{16}$/.test(digits)) throw bad('Contact ID message must be 16 hex digits', raw);
  let sum = 0;
  for (const c of digits) sum += digitValue(c);
  if (sum % 15 !== 0) throw bad(`Contact ID checksum fails (digit sum ${sum} is not a multiple of 15)`, raw);
  const mt = digits.slice(4, 6);
  if (mt !== '18' && mt !== '98') throw bad(`Contact ID message type must be 18 or 98, got ${mt}`, raw);
  const q = QUALIFIERS[digits[6] ?? ''];
  if (!q) throw bad(`Contact ID qualifier must be 1, 3 or 6, got ${digits[6]}`, raw);
  return {
    account: digits.slice(0, 4),
    messageType: mt,
    qualifier: q,
    code: digits.slice(7, 10),
    group: num(digits.slice(10, 12)),
    zone: num(digits.slice(12, 15)),
  };
}
