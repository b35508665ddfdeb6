import { CarewatchError } from '../../../lib/errors.js';
import { type Gb26875Time, readTime, writeTime } from './time.js';

/**
 * GB/T 26875.3-2011 data packet (数据包), clause 6.6:
 *
 *   '@@' | serial 2 LE | version 2 (major, minor) | time label 6 |
 *   source addr 6 LE | destination addr 6 LE | app data length 2 LE |
 *   command 1 | app data (0..1024) | checksum 1 | '##'
 *
 * The 25 bytes from serial to command are the control unit (控制单元).
 * The checksum is the sum modulo 256 of the control unit and the
 * application data; some vendors also add the '@@' start bytes, others sum
 * only the application data, so the span is a configuration option.
 */

export const START = 0x40; // '@'
export const END = 0x23; // '#'
export const HEADER_BYTES = 25;
export const MAX_DATA_BYTES = 1024;
/** Start(2) + header(25) + checksum(1) + end(2). */
export const FRAME_OVERHEAD = 2 + HEADER_BYTES + 1 + 2;
export const MAX_FRAME_BYTES = FRAME_OVERHEAD + MAX_DATA_BYTES;

export const Command = {
  control: 1,
  sendData: 2,
  confirm: 3,
  request: 4,
  reply: 5,
  deny: 6,
} as const;
export type Gb26875Command = (typeof Command)[keyof typeof Command];

/**
 * Which bytes the checksum adds up:
 * - `header+data` (the standard): the 25 control-unit bytes and the app data
 * - `start+header+data`: the same plus the two '@' bytes
 * - `data`: the application data only
 */
export type ChecksumSpan = 'header+data' | 'start+header+data' | 'data';
export const CHECKSUM_SPANS: readonly ChecksumSpan[] = ['header+data', 'start+header+data', 'data'];

export interface FrameOptions {
  checksumSpan?: ChecksumSpan;
}

export interface Gb26875Header {
  serial: number;
  version: { major: number; minor: number };
  time: Gb26875Time;
  /** 48-bit address, little-endian on the wire (safe as a JS number). */
  source: number;
  destination: number;
  dataLength: number;
  command: number;
}

export interface Gb26875Frame extends Gb26875Header {
  data: Buffer;
  checksum: number;
  /** The whole frame as received, '@@' to '##'. */
  raw: Buffer;
}

export interface FrameInput {
  serial: number;
  version?: { major: number; minor: number };
  time: Gb26875Time;
  source: number;
  destination: number;
  command: number;
  data?: Buffer;
}

export const DEFAULT_VERSION = { major: 1, minor: 0 } as const;

export function checksum(frameBytes: Buffer, dataLength: number, span: ChecksumSpan): number {
  const from = span === 'start+header+data' ? 0 : span === 'header+data' ? 2 : 2 + HEADER_BYTES;
  const to = 2 + HEADER_BYTES + dataLength;
  let sum = 0;
  for (let i = from; i < to; i++) sum += frameBytes[i] ?? 0;
  return sum & 0xff;
}

function writeAddress(addr: number, buf: Buffer, offset: number, field: string): void {
  if (!Number.isSafeInteger(addr) || addr < 0 || addr > 0xffff_ffff_ffff) {
    throw new CarewatchError('GB26875_BAD_ADDRESS', `${field} address must be an integer 0..2^48-1`, {
      [field]: addr,
    });
  }
  buf.writeUIntLE(addr, offset, 6);
}

/** Builds one complete frame. Throws a coded error on out-of-range fields. */
export function encodeFrame(input: FrameInput, opts: FrameOptions = {}): Buffer {
  const data = input.data ?? Buffer.alloc(0);
  if (data.length > MAX_DATA_BYTES) {
    throw new CarewatchError(
      'GB26875_BAD_LENGTH',
      `application data is ${data.length} bytes, at most ${MAX_DATA_BYTES}`,
      {
        length: data.length,
      },
    );
  }
  if (!Number.isInteger(input.serial) || input.serial < 0 || input.serial > 0xffff) {
    throw new CarewatchError('GB26875_BAD_SERIAL', 'serial number must be an integer 0..65535', {
      serial: input.serial,
    });
  }
  const buf = Buffer.alloc(FRAME_OVERHEAD + data.length);
  const v = input.version ?? DEFAULT_VERSION;
  buf[0] = START;
  buf[1] = START;
  buf.writeUInt16LE(input.serial, 2);
  buf[4] = v.major & 0xff;
  buf[5] = v.minor & 0xff;
  writeTime(input.time, buf, 6);
  writeAddress(input.source, buf, 12, 'source');
  writeAddress(input.destination, buf, 18, 'destination');
  buf.writeUInt16LE(data.length, 24);
  buf[26] = input.command & 0xff;
  data.copy(buf, 27);
  buf[27 + data.length] = checksum(buf, data.length, opts.checksumSpan ?? 'header+data');
  buf[28 + data.length] = END;
  buf[29 + data.length] = END;
  return buf;
}

/** Reads the control unit; `buf` starts at '@@' and holds at least 27 bytes. */
export function readHeader(buf: Buffer): Gb26875Header {
  return {
    serial: buf.readUInt16LE(2),
    version: { major: buf[4] ?? 0, minor: buf[5] ?? 0 },
    time: readTime(buf, 6),
    source: buf.readUIntLE(12, 6),
    destination: buf.readUIntLE(18, 6),
    dataLength: buf.readUInt16LE(24),
    command: buf[26] ?? 0,
  };
}

/**
 * Decodes exactly one frame. Throws CarewatchError with code
 * GB26875_TRUNCATED, GB26875_GARBAGE (no '@@' start), GB26875_BAD_LENGTH,
 * GB26875_BAD_TAIL or GB26875_BAD_CHECKSUM; `details.header` carries the
 * control unit whenever it could be read.
 */
export function decodeFrame(buf: Buffer, opts: FrameOptions = {}): Gb26875Frame {
  if (buf.length < 2 || buf[0] !== START || buf[1] !== START) {
    throw new CarewatchError('GB26875_GARBAGE', 'frame does not start with "@@"', { length: buf.length });
  }
  if (buf.length < 2 + HEADER_BYTES) {
    throw new CarewatchError('GB26875_TRUNCATED', `frame ends inside the ${HEADER_BYTES}-byte header`, {
      length: buf.length,
    });
  }
  const header = readHeader(buf);
  if (header.dataLength > MAX_DATA_BYTES) {
    throw new CarewatchError(
      'GB26875_BAD_LENGTH',
      `application data length ${header.dataLength} at header offset 22 exceeds ${MAX_DATA_BYTES}`,
      { header },
    );
  }
  const total = FRAME_OVERHEAD + header.dataLength;
  if (buf.length < total) {
    throw new CarewatchError(
      'GB26875_TRUNCATED',
      `frame is ${buf.length} bytes, its header announces ${total}`,
      {
        header,
        length: buf.length,
      },
    );
  }
  if (buf.length > total) {
    throw new CarewatchError(
      'GB26875_BAD_LENGTH',
      `frame is ${buf.length} bytes, its header announces ${total}`,
      {
        header,
        length: buf.length,
      },
    );
  }
  return finishFrame(buf, header, opts.checksumSpan ?? 'header+data');
}

/** Checks tail and checksum of a complete-length frame. */
function finishFrame(buf: Buffer, header: Gb26875Header, span: ChecksumSpan): Gb26875Frame {
  const n = header.dataLength;
  if (buf[28 + n] !== END || buf[29 + n] !== END) {
    throw new CarewatchError('GB26875_BAD_TAIL', `frame does not end with "##" at offset ${28 + n}`, {
      header,
    });
  }
  const want = checksum(buf, n, span);
  const got = buf[27 + n] ?? 0;
  if (want !== got) {
    throw new CarewatchError(
      'GB26875_BAD_CHECKSUM',
      `checksum at offset ${27 + n} is 0x${hex2(got)}, the ${span} span sums to 0x${hex2(want)}`,
      { header, expected: want, actual: got, span },
    );
  }
  return { ...header, data: Buffer.from(buf.subarray(27, 27 + n)), checksum: got, raw: Buffer.from(buf) };
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

export type DeframeResult =
  | { ok: true; frame: Gb26875Frame }
  | { ok: false; error: CarewatchError; header?: Gb26875Header };

/**
 * Streaming deframer for a TCP byte stream. `push` takes any chunk (a
 * fraction of a frame, several frames, garbage in between) and returns what
 * became complete: frames and coded errors. It never throws. After an error
 * it resynchronises on the next '@@'. Buffered bytes never exceed one
 * maximal frame.
 */
export class Deframer {
  private buf: Buffer = Buffer.alloc(0);
  private readonly span: ChecksumSpan;

  constructor(opts: FrameOptions = {}) {
    this.span = opts.checksumSpan ?? 'header+data';
  }

  /** Bytes held while waiting for the rest of a frame. */
  get pending(): number {
    return this.buf.length;
  }

  push(chunk: Buffer): DeframeResult[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const out: DeframeResult[] = [];
    for (;;) {
      const start = this.findStart(out);
      if (start < 0) break;
      if (start > 0) {
        out.push({ ok: false, error: garbage(start) });
        this.buf = this.buf.subarray(start);
      }
      if (this.buf.length < 2 + HEADER_BYTES) break;
      const header = readHeader(this.buf);
      if (header.dataLength > MAX_DATA_BYTES) {
        out.push({
          ok: false,
          header,
          error: new CarewatchError(
            'GB26875_BAD_LENGTH',
            `application data length ${header.dataLength} exceeds ${MAX_DATA_BYTES}; resynchronising`,
            { header },
          ),
        });
        this.buf = this.buf.subarray(1); // '@@@...': the real start may be one byte on
        continue;
      }
      const total = FRAME_OVERHEAD + header.dataLength;
      if (this.buf.length < total) break;
      const candidate = this.buf.subarray(0, total);
      try {
        out.push({ ok: true, frame: finishFrame(candidate, header, this.span) });
        this.buf = this.buf.subarray(total);
      } catch (err) {
        const error = err as CarewatchError;
        out.push({ ok: false, error, header });
        // A bad tail means the length was probably wrong: rescan inside the
        // candidate. A bad checksum with a good tail: the frame is delimited.
        this.buf = this.buf.subarray(error.code === 'GB26875_BAD_TAIL' ? 1 : total);
      }
    }
    if (this.buf.length > 0 && this.buf.byteOffset > 0 && this.buf.length < 64)
      this.buf = Buffer.from(this.buf);
    return out;
  }

  /**
   * Gives up on a partial frame (stream ended, or it stalled too long):
   * returns a GB26875_TRUNCATED result when bytes were pending, then
   * resynchronises on any later '@@' in what was held.
   */
  flush(): DeframeResult[] {
    if (this.buf.length === 0) return [];
    const held = this.buf.length;
    const header = held >= 2 + HEADER_BYTES && this.buf[0] === START ? readHeader(this.buf) : undefined;
    const rest = this.buf.subarray(1);
    this.buf = Buffer.alloc(0);
    const out: DeframeResult[] = [
      {
        ok: false,
        ...(header ? { header } : {}),
        error: new CarewatchError(
          'GB26875_TRUNCATED',
          `stream stalled or ended inside a frame (${held} bytes held)`,
          {
            held,
          },
        ),
      },
    ];
    const idx = rest.indexOf('@@');
    if (idx >= 0) out.push(...this.push(rest.subarray(idx)));
    return out;
  }

  /** Index of the next '@@', or -1 after dropping (and reporting) what cannot start a frame. */
  private findStart(out: DeframeResult[]): number {
    const idx = this.buf.indexOf('@@');
    if (idx >= 0) return idx;
    // Keep a trailing '@' that may be the first half of a start marker.
    const keep = this.buf.length > 0 && this.buf[this.buf.length - 1] === START ? 1 : 0;
    const drop = this.buf.length - keep;
    if (drop > 0) {
      out.push({ ok: false, error: garbage(drop) });
      this.buf = this.buf.subarray(drop);
    }
    return -1;
  }
}

function garbage(bytes: number): CarewatchError {
  return new CarewatchError('GB26875_GARBAGE', `${bytes} bytes before the next "@@" start skipped`, {
    bytes,
  });
}
