import { crcHex } from './crc.js';

/** Why a frame was refused; also the key of the receiver's counters. */
export type Dc09RejectCode =
  | 'DC09_MALFORMED'
  | 'DC09_BAD_LENGTH'
  | 'DC09_BAD_CRC'
  | 'DC09_UNSUPPORTED_ID'
  | 'DC09_UNKNOWN_ACCOUNT'
  | 'DC09_NO_KEY'
  | 'DC09_ENCRYPTION_REQUIRED'
  | 'DC09_DECRYPT_FAILED'
  | 'DC09_TIMESTAMP_MISSING'
  | 'DC09_TIMESTAMP_OUT_OF_WINDOW';

export const PRINTABLE_RE = /^[\x20-\x7e]*$/;

/** Wraps a message body (from `"` on) into a full frame: LF, CRC, length, body, CR. */
export function wrap(body: string): string {
  return `\n${crcHex(body)}${body.length.toString(16).toUpperCase().padStart(4, '0')}${body}\r`;
}

/**
 * Checks the envelope (LF/CR optional, CRC, length) and returns the body
 * from the opening `"` on.
 */
export function unwrap(
  input: string | Buffer,
):
  | { ok: true; body: string; crc: string; length: number }
  | { ok: false; code: Dc09RejectCode; message: string } {
  let text = typeof input === 'string' ? input : input.toString('latin1');
  if (text.startsWith('\n')) text = text.slice(1);
  if (text.endsWith('\r')) text = text.slice(0, -1);
  if (!PRINTABLE_RE.test(text)) {
    return { ok: false, code: 'DC09_MALFORMED', message: 'frame contains non-printable bytes' };
  }
  const crc = text.slice(0, 4);
  const len = text.slice(4, 8);
  // Uppercase only, as the standard writes them (pysiaalarm is as strict):
  // a case flip in these fields is then a detected corruption, not a pass.
  if (!/^[0-9A-F]{4}$/.test(crc) || !/^0[0-9A-F]{3}$/.test(len) || text[8] !== '"') {
    return {
      ok: false,
      code: 'DC09_MALFORMED',
      message: 'frame does not start with CRC(4 hex) 0LLL(4 hex) "',
    };
  }
  const body = text.slice(8);
  const length = Number.parseInt(len, 16);
  if (length !== body.length) {
    return {
      ok: false,
      code: 'DC09_BAD_LENGTH',
      message: `length field says ${length} bytes, message has ${body.length}`,
    };
  }
  const calc = crcHex(body);
  if (calc !== crc) {
    return { ok: false, code: 'DC09_BAD_CRC', message: `CRC field ${crc} does not match computed ${calc}` };
  }
  return { ok: true, body, crc, length };
}
