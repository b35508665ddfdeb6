import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toEvents } from '../../../../gateway/adapters/gb26875/events.js';
import {
  CHECKSUM_SPANS,
  type DeframeResult,
  Deframer,
  decodeFrame,
  encodeFrame,
} from '../../../../gateway/adapters/gb26875/frame.js';
import {
  decodeAppData,
  encodeAppData,
  type KnownObject,
} from '../../../../gateway/adapters/gb26875/payload.js';
import type { Gb26875Time } from '../../../../gateway/adapters/gb26875/time.js';

const RUNS = Number(process.env.FC_RUNS ?? 200);

const time: fc.Arbitrary<Gb26875Time> = fc.record({
  second: fc.integer({ min: 0, max: 255 }),
  minute: fc.integer({ min: 0, max: 255 }),
  hour: fc.integer({ min: 0, max: 255 }),
  day: fc.integer({ min: 0, max: 255 }),
  month: fc.integer({ min: 0, max: 255 }),
  year: fc.integer({ min: 2000, max: 2255 }),
});
const addr = fc.integer({ min: 0, max: 2 ** 48 - 1 });
const span = fc.constantFrom(...CHECKSUM_SPANS);
const frameInput = fc.record({
  serial: fc.integer({ min: 0, max: 0xffff }),
  version: fc.record({ major: fc.integer({ min: 0, max: 255 }), minor: fc.integer({ min: 0, max: 255 }) }),
  time,
  source: addr,
  destination: addr,
  command: fc.integer({ min: 0, max: 255 }),
  data: fc.uint8Array({ maxLength: 1024 }).map((a) => Buffer.from(a)),
});

const u8 = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
// Characters GB 18030 encodes in 2 bytes, and ASCII letters: 15 of them fit the 31-byte field.
const textChar = fc.constantFrom(...'三楼走廊烟感二一厨房手动报警按钮温探测器ABCxyz019-'.split(''));
const text = fc.array(textChar, { maxLength: 15 }).map((a) => a.join(''));

/** Flag lists are derived on decode, so objects are built without them. */
const none = fc.constant([] as never[]);

const object: fc.Arbitrary<KnownObject> = fc.oneof(
  fc.record({
    type: fc.constant(1 as const),
    systemType: u8,
    systemAddress: u8,
    status: u16,
    flags: none,
    time,
  }),
  fc.record({
    type: fc.constant(2 as const),
    systemType: u8,
    systemAddress: u8,
    partType: u8,
    partAddress: u32,
    status: u16,
    flags: none,
    text,
    time,
  }),
  fc.record({
    type: fc.constant(4 as const),
    systemType: u8,
    systemAddress: u8,
    operation: u8,
    operations: none,
    operator: u8,
    time,
  }),
  fc.record({ type: fc.constant(21 as const), status: u8, flags: none, time }),
  fc.record({
    type: fc.constant(24 as const),
    operation: u8,
    operations: none,
    operator: u8,
    time,
  }),
  fc.record({ type: fc.constant(28 as const), time }),
  fc.record({ type: fc.constant(91 as const), timeoutMin: u8 }),
);

/** Flags are derived on decode; compare everything else. */
function strip(o: KnownObject): Record<string, unknown> {
  const { flags: _f, operations: _o, ...rest } = o as KnownObject & { flags?: unknown; operations?: unknown };
  return rest;
}

function ok(results: DeframeResult[]): string[] {
  return results.flatMap((r) => (r.ok ? [r.frame.raw.toString('hex')] : []));
}

describe('GB26875 properties', () => {
  it('encode → decode round-trips every frame, for every checksum span', () => {
    fc.assert(
      fc.property(frameInput, span, (input, checksumSpan) => {
        const f = decodeFrame(encodeFrame(input, { checksumSpan }), { checksumSpan });
        expect(f).toMatchObject({
          serial: input.serial,
          version: input.version,
          time: input.time,
          source: input.source,
          destination: input.destination,
          command: input.command,
          dataLength: input.data.length,
        });
        expect(f.data.equals(input.data)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('application data round-trips for the decoded types', () => {
    fc.assert(
      fc.property(
        object.chain((o) =>
          fc
            .array(
              object.filter((x) => x.type === o.type),
              { maxLength: 5 },
            )
            .map((more) => [o, ...more]),
        ),
        (objects) => {
          const app = decodeAppData(encodeAppData(objects));
          expect(app.count).toBe(objects.length);
          expect(app.objects.map(strip)).toEqual(objects.map(strip));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('random bytes never throw and never yield a fire event', () => {
    const chunk = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      fc.constant(Buffer.from('@@')),
      fc.constant(Buffer.from('##')),
    );
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 20 }), span, (chunks, checksumSpan) => {
        const d = new Deframer({ checksumSpan });
        const results = [...chunks.flatMap((c) => d.push(c)), ...d.flush()];
        for (const r of results) {
          if (!r.ok) {
            expect(r.error.code).toMatch(/^GB26875_/);
            continue;
          }
          let events: ReturnType<typeof toEvents> = [];
          try {
            events = toEvents(decodeAppData(r.frame.data), { device: r.frame.source, fallbackAt: 0 });
          } catch (err) {
            expect((err as { code?: string }).code).toBe('GB26875_BAD_PAYLOAD');
          }
          expect(events.some((e) => e.kind === 'fire' && e.active)).toBe(false);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('a single corrupted byte in a restore frame never yields an altered frame or a fire', () => {
    const restore = encodeFrame({
      serial: 9,
      time: { second: 1, minute: 2, hour: 3, day: 4, month: 5, year: 2025 },
      source: 0x0102030405,
      destination: 0,
      command: 2,
      data: encodeAppData([
        {
          type: 2,
          systemType: 1,
          systemAddress: 1,
          partType: 40,
          partAddress: 0x30012,
          status: 0x0001,
          flags: [],
          text: '三楼走廊烟感',
          time: { second: 1, minute: 2, hour: 3, day: 4, month: 5, year: 2025 },
        },
      ]),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: restore.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 1, max: restore.length }),
        (pos, delta, cut) => {
          const bad = Buffer.from(restore);
          bad[pos] = ((bad[pos] ?? 0) + delta) & 0xff;
          const d = new Deframer();
          const results = [...d.push(bad.subarray(0, cut)), ...d.push(bad.subarray(cut)), ...d.flush()];
          for (const r of results) {
            if (!r.ok) continue;
            // Only a mutation outside the summed span can leave a valid frame: never a changed payload.
            expect(r.frame.data.equals(restore.subarray(27, 27 + r.frame.dataLength))).toBe(true);
            const events = toEvents(decodeAppData(r.frame.data), { device: 1, fallbackAt: 0 });
            expect(events.some((e) => e.kind === 'fire' && e.active)).toBe(false);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('chunk boundaries anywhere give the same frames and errors', () => {
    const piece = fc.oneof(
      frameInput.map((i) => encodeFrame({ ...i, data: i.data.subarray(0, 64) })),
      fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    );
    fc.assert(
      fc.property(
        fc.array(piece, { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 0, max: 4000 }), { maxLength: 12 }),
        (pieces, cutsRaw) => {
          const stream = Buffer.concat(pieces);
          const whole = new Deframer().push(stream);
          const cuts = [...new Set(cutsRaw.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const d = new Deframer();
          const chunked: DeframeResult[] = [];
          let prev = 0;
          for (const c of [...cuts, stream.length]) {
            chunked.push(...d.push(stream.subarray(prev, c)));
            prev = c;
          }
          expect(ok(chunked)).toEqual(ok(whole));
          const errs = (rs: DeframeResult[]) =>
            rs.flatMap((r) => (!r.ok && r.error.code !== 'GB26875_GARBAGE' ? [r.error.code] : []));
          const junk = (rs: DeframeResult[]) =>
            rs.reduce(
              (n, r) =>
                n + (!r.ok && r.error.code === 'GB26875_GARBAGE' ? Number(r.error.details?.bytes) : 0),
              0,
            );
          expect(errs(chunked)).toEqual(errs(whole));
          expect(junk(chunked)).toBe(junk(whole));
        },
      ),
      { numRuns: RUNS },
    );
  });
});
