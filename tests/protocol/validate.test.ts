import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildEnvelope,
  decodeEnvelope,
  decodeStatus,
  EMERGENCY_CALL_ACTIONS,
  MAX_PAYLOAD_BYTES,
  mintId,
  UUIDV7_PATTERN,
  validateEnvelope,
} from '../../protocol/index.js';

const idArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,20}$/);

const callArb = fc.record({
  siteId: idArb,
  deviceId: idArb,
  seq: fc.nat(),
  action: fc.constantFrom(...EMERGENCY_CALL_ACTIONS),
  room: fc.option(fc.string({ maxLength: 64 }), { nil: undefined }),
  battery: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
  drill: fc.boolean(),
  ts: fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }),
});

function validCall() {
  return buildEnvelope({
    kind: 'emergency_call',
    siteId: 'site-1',
    deviceId: 'btn-101',
    seq: 7,
    data: { action: 'pressed', room: '101' },
  });
}

describe('envelope validation', () => {
  it('mints UUIDv7 ids that sort by time', () => {
    const a = mintId();
    const b = mintId();
    expect(a).toMatch(new RegExp(UUIDV7_PATTERN));
    expect(a < b).toBe(true);
  });

  it('accepts every well-formed emergency call and round-trips it through JSON', () => {
    fc.assert(
      fc.property(callArb, (c) => {
        const env = buildEnvelope({
          kind: 'emergency_call',
          siteId: c.siteId,
          deviceId: c.deviceId,
          seq: c.seq,
          ts: c.ts,
          drill: c.drill,
          data: {
            action: c.action,
            ...(c.room !== undefined ? { room: c.room } : {}),
            ...(c.battery !== undefined ? { battery: c.battery } : {}),
          },
        });
        const r = decodeEnvelope(Buffer.from(JSON.stringify(env)));
        expect(r.ok).toBe(true);
        if (r.ok) expect(r.value).toEqual(env);
      }),
    );
  });

  it('never throws on arbitrary bytes and never accepts non-JSON', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const buf = Buffer.from(bytes);
        const r = decodeEnvelope(buf);
        let json = true;
        try {
          JSON.parse(buf.toString());
        } catch {
          json = false;
        }
        if (!json) expect(r.ok).toBe(false);
      }),
    );
  });

  it('never throws on arbitrary JSON values and only accepts complete envelopes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const r = validateEnvelope(v);
        if (r.ok) {
          expect(typeof r.value.id).toBe('string');
          expect(typeof r.value.data).toBe('object');
        }
      }),
    );
  });

  it('rejects an envelope with any one required field removed, naming the field', () => {
    const env = validCall() as unknown as Record<string, unknown>;
    for (const field of ['v', 'id', 'siteId', 'deviceId', 'kind', 'ts', 'seq', 'data']) {
      const copy = { ...env };
      delete copy[field];
      const r = validateEnvelope(copy);
      expect(r.ok, field).toBe(false);
      if (!r.ok) {
        expect(r.code).toBe('ENVELOPE_INVALID');
        expect(r.message).toContain(field);
      }
    }
  });

  it('rejects mutated field values with a message that says where', () => {
    const cases: Array<[string, unknown, string, string]> = [
      ['id', 'not-a-uuid', 'ENVELOPE_INVALID', '/id'],
      ['seq', -1, 'ENVELOPE_INVALID', '/seq'],
      ['seq', 1.5, 'ENVELOPE_INVALID', '/seq'],
      ['ts', 'yesterday', 'ENVELOPE_INVALID', '/ts'],
      ['siteId', 'a/b', 'ENVELOPE_INVALID', '/siteId'],
      ['siteId', 'site+', 'ENVELOPE_INVALID', '/siteId'],
      ['v', 2, 'ENVELOPE_INVALID', '/v'],
      ['kind', 'teleport', 'KIND_UNKNOWN', 'teleport'],
      ['data', { action: 'explode' }, 'DATA_INVALID', '/data/action'],
      ['data', { action: 'pressed', battery: 300 }, 'DATA_INVALID', '/data/battery'],
      ['data', { action: 'pressed', extra: 1 }, 'DATA_INVALID', 'extra'],
    ];
    for (const [field, value, code, where] of cases) {
      const r = validateEnvelope({ ...validCall(), [field]: value });
      expect(r.ok, `${field}=${JSON.stringify(value)}`).toBe(false);
      if (!r.ok) {
        expect(r.code).toBe(code);
        expect(r.message).toContain(where);
      }
    }
  });

  it('refuses payloads over the size limit before parsing them', () => {
    const big = Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x20);
    const r = decodeEnvelope(big);
    expect(r).toMatchObject({ ok: false, code: 'PAYLOAD_TOO_LARGE' });
  });

  it('validates gateway status messages', () => {
    const good = { v: 1, siteId: 's1', gatewayId: 'gw1', state: 'online', ts: new Date().toISOString() };
    expect(decodeStatus(JSON.stringify(good)).ok).toBe(true);
    const bad = decodeStatus(JSON.stringify({ ...good, state: 'sleepy' }));
    expect(bad).toMatchObject({ ok: false, code: 'STATUS_INVALID' });
  });
});
