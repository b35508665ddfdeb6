import { describe, expect, it } from 'vitest';
import {
  type ChecksumSpan,
  Command,
  type DeframeResult,
  Deframer,
  decodeFrame,
  encodeFrame,
} from '../../../../gateway/adapters/gb26875/frame.js';
import { timeToEpoch } from '../../../../gateway/adapters/gb26875/time.js';

/** 2024-03-15 14:30:45 as sec/min/hour/day/month/yy. */
const TIME_BYTES = [0x2d, 0x1e, 0x0e, 0x0f, 0x03, 0x18];
const TIME = { second: 45, minute: 30, hour: 14, day: 15, month: 3, year: 2024 };
/** Source address 0x112233445566, little-endian on the wire. */
const SRC_BYTES = [0x66, 0x55, 0x44, 0x33, 0x22, 0x11];
const SRC = 0x112233445566;

/** A confirm (command 3, no data) for serial 0x0102, assembled by hand from clause 6.6. */
function goldenConfirm(checksum: number): Buffer {
  return Buffer.from([
    0x40,
    0x40, // '@@'
    0x02,
    0x01, // serial 0x0102 LE
    0x01,
    0x00, // version 1.0
    ...TIME_BYTES,
    ...SRC_BYTES,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00, // destination 0
    0x00,
    0x00, // data length 0
    0x03, // command: confirm
    checksum,
    0x23,
    0x23, // '##'
  ]);
}

// Checksums worked out by hand (python sum(...) % 256) over the bytes above.
const CONFIRM_SUM_HEADER = 0xef; // 25 control-unit bytes
const CONFIRM_SUM_WITH_START = 0x6f; // + 0x40 + 0x40

/** A part-state fire upload (type 2) with the GB 18030 text 三楼走廊烟感. */
function goldenFire(checksum: number): Buffer {
  const text = [0xc8, 0xfd, 0xc2, 0xa5, 0xd7, 0xdf, 0xc0, 0xc8, 0xd1, 0xcc, 0xb8, 0xd0];
  const data = [
    0x02,
    0x01, // type 2, one object
    0x01,
    0x01, // system type 1 (fire alarm system), address 1
    0x28, // part type 40 (smoke detector)
    0x12,
    0x00,
    0x03,
    0x00, // part address 0x00030012 LE
    0x03,
    0x00, // status: normal | fire
    ...text,
    ...new Array(31 - text.length).fill(0),
    ...TIME_BYTES,
  ];
  return Buffer.from([
    0x40,
    0x40,
    0x05,
    0x00,
    0x01,
    0x00,
    ...TIME_BYTES,
    ...SRC_BYTES,
    0,
    0,
    0,
    0,
    0,
    0,
    data.length & 0xff,
    data.length >> 8,
    0x02,
    ...data,
    checksum,
    0x23,
    0x23,
  ]);
}
const FIRE_SUMS: Record<ChecksumSpan, number> = {
  'header+data': 0x77,
  'start+header+data': 0xf7,
  data: 0x57,
};

describe('GB26875 frame codec', () => {
  it('encodes a confirm byte for byte as the standard lays it out', () => {
    const buf = encodeFrame({
      serial: 0x0102,
      time: TIME,
      source: SRC,
      destination: 0,
      command: Command.confirm,
    });
    expect(buf.toString('hex')).toBe(goldenConfirm(CONFIRM_SUM_HEADER).toString('hex'));
    expect(buf.length).toBe(30);
  });

  it('puts the checksum over the configured span', () => {
    const buf = encodeFrame(
      { serial: 0x0102, time: TIME, source: SRC, destination: 0, command: Command.confirm },
      { checksumSpan: 'start+header+data' },
    );
    expect(buf.toString('hex')).toBe(goldenConfirm(CONFIRM_SUM_WITH_START).toString('hex'));
  });

  it.each(Object.entries(FIRE_SUMS) as Array<[ChecksumSpan, number]>)(
    'decodes a golden fire frame with checksum span %s',
    (span, sum) => {
      const golden = goldenFire(sum);
      const f = decodeFrame(golden, { checksumSpan: span });
      expect(f.serial).toBe(5);
      expect(f.version).toEqual({ major: 1, minor: 0 });
      expect(f.time).toEqual(TIME);
      expect(f.source).toBe(SRC);
      expect(f.destination).toBe(0);
      expect(f.command).toBe(Command.sendData);
      expect(f.dataLength).toBe(48);
      expect(f.data.length).toBe(48);
      expect(f.checksum).toBe(sum);
      // Re-encoding gives the same bytes.
      const again = encodeFrame(
        { serial: 5, time: TIME, source: SRC, destination: 0, command: 2, data: f.data },
        { checksumSpan: span },
      );
      expect(again.equals(golden)).toBe(true);
    },
  );

  it('rejects a checksum made over another span with GB26875_BAD_CHECKSUM and keeps the header', () => {
    const golden = goldenFire(FIRE_SUMS['start+header+data']);
    try {
      decodeFrame(golden, { checksumSpan: 'header+data' });
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'GB26875_BAD_CHECKSUM', details: { expected: 0x77, actual: 0xf7 } });
      expect((err as { details: { header: { serial: number } } }).details.header.serial).toBe(5);
    }
  });

  it('rejects bad tails, oversize lengths, truncation and missing starts with their codes', () => {
    const good = goldenConfirm(CONFIRM_SUM_HEADER);
    const badTail = Buffer.from(good);
    badTail[29] = 0x24;
    expect(() => decodeFrame(badTail)).toThrow(expect.objectContaining({ code: 'GB26875_BAD_TAIL' }));
    const big = Buffer.from(good);
    big.writeUInt16LE(1025, 24);
    expect(() => decodeFrame(big)).toThrow(expect.objectContaining({ code: 'GB26875_BAD_LENGTH' }));
    expect(() => decodeFrame(good.subarray(0, 20))).toThrow(
      expect.objectContaining({ code: 'GB26875_TRUNCATED' }),
    );
    expect(() => decodeFrame(good.subarray(0, 29))).toThrow(
      expect.objectContaining({ code: 'GB26875_TRUNCATED' }),
    );
    expect(() => decodeFrame(good.subarray(1))).toThrow(expect.objectContaining({ code: 'GB26875_GARBAGE' }));
  });

  it('refuses to encode more than 1024 bytes of data or bad addresses', () => {
    const base = { serial: 1, time: TIME, source: 1, destination: 0, command: 2 };
    expect(() => encodeFrame({ ...base, data: Buffer.alloc(1025) })).toThrow(
      expect.objectContaining({ code: 'GB26875_BAD_LENGTH' }),
    );
    expect(encodeFrame({ ...base, data: Buffer.alloc(1024) }).length).toBe(1054);
    expect(() => encodeFrame({ ...base, source: 2 ** 48 })).toThrow(
      expect.objectContaining({ code: 'GB26875_BAD_ADDRESS' }),
    );
  });

  it('reads the time label as device-local time (UTC+8 by default)', () => {
    expect(timeToEpoch(TIME)).toBe(Date.UTC(2024, 2, 15, 6, 30, 45));
    expect(timeToEpoch(TIME, 0)).toBe(Date.UTC(2024, 2, 15, 14, 30, 45));
    expect(timeToEpoch({ ...TIME, month: 2, day: 30 })).toBeNull();
  });
});

function frames(results: DeframeResult[]) {
  return results.filter((r) => r.ok).map((r) => (r.ok ? r.frame.serial : -1));
}
function codes(results: DeframeResult[]) {
  return results.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.error.code));
}

describe('GB26875 deframer', () => {
  const a = goldenConfirm(CONFIRM_SUM_HEADER);
  const b = goldenFire(FIRE_SUMS['header+data']);

  it('reassembles frames split byte by byte and splits merged frames', () => {
    const d = new Deframer();
    const out: DeframeResult[] = [];
    for (const byte of Buffer.concat([a, b])) out.push(...d.push(Buffer.from([byte])));
    expect(frames(out)).toEqual([0x0102, 5]);
    expect(codes(out)).toEqual([]);
    expect(frames(new Deframer().push(Buffer.concat([a, b, a])))).toEqual([0x0102, 5, 0x0102]);
  });

  it('skips garbage up to the next "@@" and reports it', () => {
    const d = new Deframer();
    const out = d.push(Buffer.concat([Buffer.from('hello'), a, Buffer.from([0x00, 0x40]), b]));
    expect(frames(out)).toEqual([0x0102, 5]);
    // 'hello' is garbage; the stray '@' before the second frame makes a false
    // start ('@@@'), rejected by its length or tail, then the real frame follows.
    expect(codes(out)[0]).toBe('GB26875_GARBAGE');
    for (const c of codes(out))
      expect(['GB26875_GARBAGE', 'GB26875_BAD_LENGTH', 'GB26875_BAD_TAIL']).toContain(c);
    // A stray '@' right before a frame does not swallow it.
    expect(frames(new Deframer().push(Buffer.concat([Buffer.from('@'), a])))).toEqual([0x0102]);
    // Garbage with no start at all is dropped at once, nothing is held.
    const g = new Deframer();
    expect(codes(g.push(Buffer.from('xxxxxxxx')))).toEqual(['GB26875_GARBAGE']);
    expect(g.pending).toBe(0);
  });

  it('reports a bad checksum with its header and goes on with the next frame', () => {
    const bad = Buffer.from(b);
    bad[40] = (bad[40] ?? 0) ^ 0x01;
    const out = new Deframer().push(Buffer.concat([bad, a]));
    expect(codes(out)).toEqual(['GB26875_BAD_CHECKSUM']);
    const first = out[0];
    expect(first && !first.ok && first.header?.serial).toBe(5);
    expect(frames(out)).toEqual([0x0102]);
  });

  it('rejects an oversize length and resynchronises on the next frame', () => {
    const big = Buffer.from(a);
    big.writeUInt16LE(0xffff, 24);
    const out = new Deframer().push(Buffer.concat([big, a]));
    expect(codes(out)[0]).toBe('GB26875_BAD_LENGTH');
    expect(frames(out)).toEqual([0x0102]);
  });

  it('rejects a bad tail and resynchronises', () => {
    const bad = Buffer.from(a);
    bad[28] = 0x00;
    const out = new Deframer().push(Buffer.concat([bad, b]));
    expect(codes(out)).toContain('GB26875_BAD_TAIL');
    expect(frames(out)).toEqual([5]);
  });

  it('flush() reports a held partial frame as GB26875_TRUNCATED', () => {
    const d = new Deframer();
    expect(d.push(b.subarray(0, 40))).toEqual([]);
    expect(d.pending).toBe(40);
    expect(codes(d.flush())).toEqual(['GB26875_TRUNCATED']);
    expect(d.pending).toBe(0);
    expect(frames(d.push(a))).toEqual([0x0102]);
  });
});
