import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAdmCidData } from '../../../../gateway/adapters/dc09/contact-id.js';
import { decodeEvents } from '../../../../gateway/adapters/dc09/decode.js';
import { wrap } from '../../../../gateway/adapters/dc09/envelope.js';
import { buildFrame, parseFrame } from '../../../../gateway/adapters/dc09/frame.js';
import { formatSiaData } from '../../../../gateway/adapters/dc09/sia.js';

const hex = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9A-F]{${min},${max}}$`));

const cidData = fc
  .record({
    q: fc.constantFrom('new', 'restore', 'status') as fc.Arbitrary<'new' | 'restore' | 'status'>,
    code: fc.integer({ min: 100, max: 999 }),
    group: fc.integer({ min: 0, max: 99 }),
    zone: fc.integer({ min: 0, max: 999 }),
  })
  .map((r) => formatAdmCidData({ qualifier: r.q, code: String(r.code), group: r.group, zone: r.zone }));

const siaData = fc
  .record({
    code: fc.stringMatching(/^[A-Z]{2}$/),
    address: fc.option(fc.integer({ min: 0, max: 9999 }), { nil: null }),
    area: fc.option(fc.integer({ min: 0, max: 99 }), { nil: null }),
  })
  .map((r) => formatSiaData(r));

const frameSpec = fc
  .record({
    kind: fc.constantFrom('ADM-CID', 'SIA-DCS', 'NULL'),
    cid: cidData,
    sia: siaData,
    seq: fc.integer({ min: 0, max: 9999 }),
    receiver: fc.option(hex(1, 6), { nil: undefined }),
    prefix: hex(1, 6),
    account: hex(3, 16),
    xdata: fc.array(fc.stringMatching(/^[A-Z][0-9A-Za-z .:-]{0,12}$/), { maxLength: 2 }),
    ts: fc.option(
      fc.integer({ min: 1_600_000_000, max: 2_000_000_000 }).map((s) => s * 1000),
      { nil: undefined },
    ),
    keyBytes: fc.constantFrom(0, 16, 24, 32),
    keySeed: fc.integer({ min: 0, max: 255 }),
  })
  .map((r) => {
    const key = r.keyBytes ? Buffer.alloc(r.keyBytes, r.keySeed) : undefined;
    const ts = r.ts ?? (key ? 1_700_000_000_000 : undefined);
    const data = r.kind === 'ADM-CID' ? r.cid : r.kind === 'SIA-DCS' ? r.sia : '';
    return { ...r, key, ts, data, xdata: r.kind === 'NULL' ? [] : r.xdata };
  });

type Spec = typeof frameSpec extends fc.Arbitrary<infer T> ? T : never;

function build(s: Spec): string {
  return buildFrame({
    id: s.kind,
    seq: s.seq,
    ...(s.receiver !== undefined ? { receiver: s.receiver } : {}),
    prefix: s.prefix,
    account: s.account,
    data: s.data,
    xdata: s.xdata,
    timestamp: s.ts ?? null,
    ...(s.key ? { key: s.key } : {}),
  });
}

function parse(s: Spec, frame: string | Buffer) {
  return parseFrame(frame, {
    now: s.ts ?? 1_700_000_000_000,
    lookup: (a) => (a === s.account ? (s.key ? { key: s.key } : {}) : undefined),
  });
}

describe('DC-09 properties', () => {
  it('build -> parse round-trips every valid frame', () => {
    fc.assert(
      fc.property(frameSpec, (s) => {
        const r = parse(s, build(s));
        if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
        expect(r.frame).toMatchObject({
          id: s.kind,
          encrypted: s.key !== undefined,
          seq: String(s.seq).padStart(4, '0'),
          prefix: s.prefix,
          account: s.account,
          data: s.data,
          xdata: s.xdata,
          timestampMs: s.ts ?? null,
        });
        expect(r.frame.receiver).toBe(s.receiver);
        expect(decodeEvents(r.frame).length).toBe(s.kind === 'NULL' ? 0 : 1);
      }),
      { numRuns: 400 },
    );
  });

  it('any single changed byte is rejected', () => {
    fc.assert(
      fc.property(frameSpec, fc.nat(), fc.integer({ min: 1, max: 255 }), (s, pos, delta) => {
        const frame = Buffer.from(build(s), 'latin1');
        const i = pos % frame.length;
        frame[i] = ((frame[i] ?? 0) + delta) & 0xff;
        const r = parse(s, frame);
        expect(r.ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('random bytes never throw and are never accepted', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, framed) => {
        const buf = framed
          ? Buffer.concat([Buffer.from('\n'), bytes, Buffer.from('\r')])
          : Buffer.from(bytes);
        const r = parseFrame(buf, { now: Date.now(), lookup: () => ({}) });
        expect(r.ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('printable garbage with a valid CRC and length never throws, and the data never decodes from noise', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 120 }),
        fc.constantFrom('', '"SIA-DCS"0001L0#1234[', '"ADM-CID"0001L0#1234['),
        (tail, head) => {
          const text = tail.replace(/[^\x20-\x7e]/g, '?');
          const r = parseFrame(wrap(`${head || '"'}${text}`), { now: Date.now(), lookup: () => ({}) });
          if (r.ok) {
            // Only well-formed content gets this far; decoding either works or throws a coded error.
            try {
              decodeEvents(r.frame);
            } catch (err) {
              expect((err as { code?: string }).code).toMatch(/^DC09_BAD_(CID|SIA)$/);
            }
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
