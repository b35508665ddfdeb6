import { CarewatchError } from '../../../lib/errors.js';
import { decryptHex, encryptBody, parseKey, unpad } from './crypto.js';
import { type Dc09RejectCode, PRINTABLE_RE, unwrap, wrap } from './envelope.js';
import { buildDuh, buildNak } from './reply.js';
import { formatTimestamp, looksLikeTimestamp, parseTimestamp, TIMESTAMP_LENGTH } from './timestamp.js';

/**
 * SIA DC-09 message framing (ANSI/SIA DC-09-2013, §5.5.1):
 *
 *   <LF> CRC 0LLL "ID" seq [Rrcvr] Lpref [#acct] [ data ] [x-data]... [timestamp] <CR>
 *
 * - CRC: 4 uppercase hex chars, CRC-16/ARC of everything from the opening `"` to the
 *   last character before <CR> (see crc.ts).
 * - 0LLL: `0` + 3 uppercase hex chars, the length in bytes of that same span.
 * - ID: `SIA-DCS`, `ADM-CID` or `NULL`, prefixed with `*` when encrypted.
 * - seq: 4 decimal digits; the receiver echoes it, never judges it.
 * - Rrcvr (optional) and Lpref: `R`/`L` + 1..6 hex digits, echoed in replies.
 * - #acct: `#` + 3..16 hex digits. Plain messages from older panels carry the
 *   account only inside the data (`[#acct|...]`); both places are accepted.
 * - data: `[...]`, then optional extended data blocks `[Xxxx]`, then the
 *   timestamp `_HH:MM:SS,MM-DD-YYYY` (UTC), mandatory when encrypted.
 *
 * Replies (§5.5.3) and how this parser picks them:
 * - ACK: message received without errors (built by the receiver once the
 *   event is stored, see reply.ts).
 * - NAK: "when an encrypted message fails the timestamp test" (§5.5.3.2):
 *   timestamp outside the window or missing where required. A block that
 *   does not decrypt with the account's key is treated the same way, since
 *   its timestamp cannot be verified (a panel whose key was changed then
 *   sees NAKs, like pysiaalarm does). The NAK is never encrypted.
 * - DUH: "unable to process an otherwise correctly received message"
 *   (§5.5.3.3): unknown account, unsupported ID token, encryption mismatch,
 *   data the receiver cannot interpret.
 * - No reply: CRC or length errors. Our reading of the standard: such a
 *   message was not "correctly received" so neither ACK nor DUH applies, and
 *   NAK is reserved for the timestamp test; its seq/account cannot be trusted
 *   for an echo either. Staying silent makes the panel retransmit after its
 *   ACK timeout, which is what a corrupted frame needs. Receivers that want
 *   to prompt the panel faster can opt into NAK with `nakOnCorrupt`.
 */

export const DC09_IDS = ['SIA-DCS', 'ADM-CID', 'NULL'] as const;
export type Dc09Id = (typeof DC09_IDS)[number];

export type { Dc09RejectCode } from './envelope.js';
export { unwrap, wrap } from './envelope.js';

/** The routing part of a message, as far as it could be read. */
export interface Dc09Header {
  /** ID token without the `*`. */
  id: string;
  encrypted: boolean;
  seq: string;
  /** Receiver number digits (without `R`), when present. */
  receiver?: string;
  /** Line prefix digits (without `L`). */
  prefix: string;
  /** Account (uppercase, without `#`), from the header or else the data. */
  account?: string;
}

export interface Dc09Frame extends Dc09Header {
  id: Dc09Id;
  account: string;
  /** Content of the first `[...]` block, decrypted and without pad. */
  data: string;
  /** Extended data blocks without brackets, e.g. `M0026B9E4268B`. */
  xdata: string[];
  /** Raw timestamp (`_HH:MM:SS,MM-DD-YYYY`) or null when absent. */
  timestamp: string | null;
  timestampMs: number | null;
  crc: string;
  length: number;
}

export type ParseOutcome =
  | { ok: true; frame: Dc09Frame }
  | { ok: false; code: Dc09RejectCode; message: string; reply?: string; header?: Dc09Header };

export interface AccountPolicy {
  key?: Buffer;
  /** Plain messages must carry a timestamp inside the window. */
  requireTimestamp?: boolean;
}

export interface ParseOptions {
  now: number;
  lookup: (account: string) => AccountPolicy | undefined;
  /** How far a message timestamp may lag the receiver clock (default 40 s). */
  windowPastS?: number;
  /** How far it may lead the receiver clock (default 20 s). */
  windowFutureS?: number;
  /** Default for accounts that do not say (default false). */
  requireTimestamp?: boolean;
  /** Answer CRC/length errors with NAK instead of silence (default false). */
  nakOnCorrupt?: boolean;
}

const HEADER_RE =
  /^"(\*?)([^"]{1,16})"(\d{4})(?:R([0-9A-Fa-f]{1,6}))?L([0-9A-Fa-f]{1,6})(?:#([0-9A-Fa-f]{3,16}))?\[/;
const DATA_ACCOUNT_RE = /^#([0-9A-Fa-f]{3,16})\|/;

/** Parses and validates one frame against the account table and clock. */
export function parseFrame(input: string | Buffer, opts: ParseOptions): ParseOutcome {
  const env = unwrap(input);
  if (!env.ok) {
    const corrupt = env.code === 'DC09_BAD_CRC' || env.code === 'DC09_BAD_LENGTH';
    return { ...env, ...(corrupt && opts.nakOnCorrupt ? { reply: buildNak(opts.now) } : {}) };
  }
  const m = HEADER_RE.exec(env.body);
  if (!m) {
    return { ok: false, code: 'DC09_MALFORMED', message: 'header is not "ID"seq[Rrcvr]Lpref[#acct][' };
  }
  const [, star, id = '', seq = '', rcv, pref = '', hdrAcct] = m;
  const rest = env.body.slice(m[0].length);
  const header: Dc09Header = {
    id,
    encrypted: star === '*',
    seq,
    ...(rcv !== undefined ? { receiver: rcv.toUpperCase() } : {}),
    prefix: pref.toUpperCase(),
  };
  let account = hdrAcct?.toUpperCase();
  if (!account && !header.encrypted) account = DATA_ACCOUNT_RE.exec(rest)?.[1]?.toUpperCase();
  if (account) header.account = account;
  const fail = (code: Dc09RejectCode, message: string, reply?: string): ParseOutcome => ({
    ok: false,
    code,
    message,
    header,
    ...(reply ? { reply } : {}),
  });
  const duh = () => buildDuh(header);

  if (!(DC09_IDS as readonly string[]).includes(id)) {
    return fail('DC09_UNSUPPORTED_ID', `ID token "${id}" is not supported`, duh());
  }
  if (!account) return fail('DC09_UNKNOWN_ACCOUNT', 'message carries no account number', duh());
  const policy = opts.lookup(account);
  if (!policy) return fail('DC09_UNKNOWN_ACCOUNT', `account ${account} is not configured`, duh());

  let content: string;
  if (header.encrypted) {
    if (!policy.key)
      return fail('DC09_NO_KEY', `account ${account} sent an encrypted message but has no key`, duh());
    let plain: string;
    try {
      plain = decryptHex(policy.key, rest);
    } catch (err) {
      const msg = err instanceof CarewatchError ? err.message : String(err);
      return fail('DC09_DECRYPT_FAILED', `account ${account}: ${msg}`, buildNak(opts.now));
    }
    const unpadded = PRINTABLE_RE.test(plain) ? unpad(plain) : null;
    if (unpadded === null) {
      return fail(
        'DC09_DECRYPT_FAILED',
        `account ${account}: block does not decrypt to a DC-09 body (wrong key?)`,
        buildNak(opts.now),
      );
    }
    content = unpadded;
  } else {
    if (policy.key) {
      return fail('DC09_ENCRYPTION_REQUIRED', `account ${account} has a key but sent a plain message`, duh());
    }
    content = rest;
  }

  const parsed = splitContent(content);
  if (!parsed) return fail('DC09_MALFORMED', 'data is not [data][x-data...][timestamp]', duh());
  const { data, xdata, timestamp } = parsed;

  const mustHaveTs = header.encrypted || (policy.requireTimestamp ?? opts.requireTimestamp ?? false);
  let timestampMs: number | null = null;
  if (timestamp !== null) timestampMs = parseTimestamp(timestamp);
  if (mustHaveTs) {
    if (timestamp === null)
      return fail('DC09_TIMESTAMP_MISSING', 'timestamp required but absent', buildNak(opts.now));
    const past = (opts.windowPastS ?? 40) * 1000;
    const future = (opts.windowFutureS ?? 20) * 1000;
    if (timestampMs === null || timestampMs < opts.now - past || timestampMs > opts.now + future) {
      return fail(
        'DC09_TIMESTAMP_OUT_OF_WINDOW',
        `timestamp ${timestamp} outside -${past / 1000}s/+${future / 1000}s of receiver time ${formatTimestamp(opts.now)}`,
        buildNak(opts.now),
      );
    }
  }
  return {
    ok: true,
    frame: {
      ...header,
      id: id as Dc09Id,
      account,
      data,
      xdata,
      timestamp,
      timestampMs,
      crc: env.crc,
      length: env.length,
    },
  };
}

/** Splits `data]` `[x]...` `timestamp?` (the text after the opening `[`). */
function splitContent(content: string): { data: string; xdata: string[]; timestamp: string | null } | null {
  const close = content.indexOf(']');
  if (close < 0) return null;
  const data = content.slice(0, close);
  if (data.includes('[')) return null;
  let i = close + 1;
  const xdata: string[] = [];
  while (content[i] === '[') {
    const end = content.indexOf(']', i + 1);
    if (end < 0) return null;
    const x = content.slice(i + 1, end);
    if (x.includes('[') || x.length === 0) return null;
    xdata.push(x);
    i = end + 1;
  }
  const tail = content.slice(i);
  if (tail === '') return { data, xdata, timestamp: null };
  if (tail.length === TIMESTAMP_LENGTH && looksLikeTimestamp(tail)) return { data, xdata, timestamp: tail };
  return null;
}

export interface FrameSpec {
  /** ID token without `*` (any string, so tests can send unsupported ones). */
  id: Dc09Id | string;
  seq: number | string;
  receiver?: string;
  prefix?: string;
  /** Header account; omitted from the header when undefined. */
  account?: string;
  data?: string;
  xdata?: string[];
  /** Epoch ms, a raw `_HH:MM:SS,MM-DD-YYYY` string, or null for none. Required when encrypting. */
  timestamp?: number | string | null;
  /** Encrypts the block when given (Buffer or hex). */
  key?: Buffer | string;
  rand?: (n: number) => number;
}

/** Builds a complete frame (LF ... CR) as a panel would send it. */
export function buildFrame(spec: FrameSpec): string {
  const seq = typeof spec.seq === 'number' ? String(spec.seq).padStart(4, '0') : spec.seq;
  const ts =
    spec.timestamp === undefined || spec.timestamp === null
      ? ''
      : typeof spec.timestamp === 'number'
        ? formatTimestamp(spec.timestamp)
        : spec.timestamp;
  const key =
    spec.key === undefined ? undefined : typeof spec.key === 'string' ? parseKey(spec.key) : spec.key;
  if (key && !ts) {
    throw new CarewatchError('DC09_TIMESTAMP_MISSING', 'an encrypted DC-09 message needs a timestamp');
  }
  const head =
    `"${key ? '*' : ''}${spec.id}"${seq}` +
    `${spec.receiver !== undefined ? `R${spec.receiver}` : ''}L${spec.prefix ?? '0'}` +
    `${spec.account !== undefined ? `#${spec.account}` : ''}[`;
  const content = `${spec.data ?? ''}]${(spec.xdata ?? []).map((x) => `[${x}]`).join('')}${ts}`;
  return wrap(head + (key ? encryptBody(key, content, spec.rand) : content));
}
