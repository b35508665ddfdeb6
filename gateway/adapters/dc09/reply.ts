import { decryptHex, encryptBody, unpad } from './crypto.js';
import { type Dc09RejectCode, PRINTABLE_RE, unwrap, wrap } from './envelope.js';
import { formatTimestamp, parseTimestamp } from './timestamp.js';

/**
 * Receiver replies (ANSI/SIA DC-09-2013 §5.5.3):
 *
 *   ACK   "ACK"seq[Rrcvr]Lpref#acct[]
 *   *ACK  "*ACK"seq[Rrcvr]Lpref#acct[<hex of AES(<pad>|]<timestamp>)>
 *   NAK   "NAK"0000R0L0A0[]_HH:MM:SS,MM-DD-YYYY   (never encrypted)
 *   DUH   "DUH"seq[Rrcvr]Lpref[#acct][]           (never encrypted)
 *
 * ACK and DUH echo the sequence number, receiver and line prefix (and the
 * account) of the message they answer so the panel can match them; the
 * encrypted ACK carries the receiver's time, as the NAK does, which is how
 * a panel with a drifting clock resynchronises.
 */

export type ReplyType = 'ACK' | 'NAK' | 'DUH';

export interface ReplyTarget {
  seq: string;
  receiver?: string;
  prefix?: string;
  account?: string;
}

function route(t: ReplyTarget): string {
  return `${t.seq}${t.receiver !== undefined ? `R${t.receiver}` : ''}L${t.prefix ?? '0'}${t.account ? `#${t.account}` : ''}`;
}

/** ACK for a message; encrypted (`*ACK` with timestamp) when `key` is given. */
export function buildAck(
  t: ReplyTarget,
  opts: { now: number; key?: Buffer; rand?: (n: number) => number },
): string {
  if (!opts.key) return wrap(`"ACK"${route(t)}[]`);
  return wrap(`"*ACK"${route(t)}[${encryptBody(opts.key, `]${formatTimestamp(opts.now)}`, opts.rand)}`);
}

/** NAK carrying the receiver's current time. */
export function buildNak(now: number): string {
  return wrap(`"NAK"0000R0L0A0[]${formatTimestamp(now)}`);
}

/** DUH: the message was received but cannot be processed. */
export function buildDuh(t: ReplyTarget): string {
  return wrap(`"DUH"${route(t)}[]`);
}

export interface Dc09Reply {
  type: ReplyType;
  encrypted: boolean;
  seq: string;
  receiver?: string;
  prefix?: string;
  account?: string;
  /** Receiver time carried by NAK / encrypted ACK. */
  timestamp: string | null;
  timestampMs: number | null;
}

const REPLY_RE =
  /^"(\*?)(ACK|NAK|DUH)"(\d{4})(?:R([0-9A-Fa-f]{1,6}))?(?:L([0-9A-Fa-f]{1,6}))?(?:#([0-9A-Fa-f]{3,16})|A[0-9A-Fa-f]*)?\[(.*)$/;

/** Parses a receiver reply (used by the dialler simulator and tests). */
export function parseReply(
  input: string | Buffer,
  key?: Buffer,
): { ok: true; reply: Dc09Reply } | { ok: false; code: Dc09RejectCode; message: string } {
  const env = unwrap(input);
  if (!env.ok) return env;
  const m = REPLY_RE.exec(env.body);
  if (!m) return { ok: false, code: 'DC09_MALFORMED', message: 'not an ACK/NAK/DUH reply' };
  const [, star, type = 'ACK', seq = '', rcv, pref, acct, rest = ''] = m;
  const encrypted = star === '*';
  let tail = rest;
  if (encrypted) {
    if (!key) return { ok: false, code: 'DC09_NO_KEY', message: 'encrypted reply but no key to read it' };
    let plain: string;
    try {
      plain = decryptHex(key, rest);
    } catch (err) {
      return { ok: false, code: 'DC09_DECRYPT_FAILED', message: String((err as Error).message) };
    }
    const body = PRINTABLE_RE.test(plain) ? unpad(plain) : null;
    if (body === null)
      return { ok: false, code: 'DC09_DECRYPT_FAILED', message: 'reply does not decrypt (wrong key?)' };
    tail = body;
  }
  if (!tail.startsWith(']'))
    return { ok: false, code: 'DC09_MALFORMED', message: 'reply data block must be empty' };
  const ts = tail.slice(1);
  if (ts !== '' && parseTimestamp(ts) === null) {
    return {
      ok: false,
      code: 'DC09_MALFORMED',
      message: `reply timestamp ${ts} is not _HH:MM:SS,MM-DD-YYYY`,
    };
  }
  return {
    ok: true,
    reply: {
      type: type as ReplyType,
      encrypted,
      seq,
      ...(rcv !== undefined ? { receiver: rcv } : {}),
      ...(pref !== undefined ? { prefix: pref } : {}),
      ...(acct !== undefined ? { account: acct.toUpperCase() } : {}),
      timestamp: ts === '' ? null : ts,
      timestampMs: ts === '' ? null : parseTimestamp(ts),
    },
  };
}
