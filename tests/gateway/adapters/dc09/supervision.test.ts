import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildFrame } from '../../../../gateway/adapters/dc09/frame.js';
import { Dc09Receiver } from '../../../../gateway/adapters/dc09/receiver.js';
import { parseReply } from '../../../../gateway/adapters/dc09/reply.js';
import { ManualClock } from '../../../../lib/clock.js';

const meta = { transport: 'tcp' as const, remote: 'test' };

function make(clock: ManualClock, events: Array<[string, string]>, sink = async () => {}) {
  return new Dc09Receiver({
    tcpPort: null,
    udpPort: null,
    accounts: [{ account: '1234' }, { account: '5678' }],
    sink,
    supervisionTimeoutS: 60,
    onSupervision: (a, s) => events.push([a, s]),
    clock,
  });
}

describe('Dc09Receiver supervision (manual clock, no sockets)', () => {
  it('reports silent accounts offline and back online on their next message', async () => {
    const clock = new ManualClock();
    const events: Array<[string, string]> = [];
    const r = make(clock, events);
    await r.start();
    clock.advance(59_000);
    expect(events).toEqual([]);
    clock.advance(2_000);
    expect(events).toEqual([
      ['1234', 'offline'],
      ['5678', 'offline'],
    ]);
    const reply = await r.process(buildFrame({ id: 'NULL', seq: 1, account: '1234' }), meta);
    expect(parseReply(reply ?? '')).toMatchObject({ ok: true, reply: { type: 'ACK' } });
    expect(events.at(-1)).toEqual(['1234', 'online']);
    // messages keep it online; silence takes it offline once, not repeatedly
    clock.advance(50_000);
    await r.process(buildFrame({ id: 'ADM-CID', seq: 2, account: '1234', data: '1602 00 000' }), meta);
    clock.advance(50_000);
    expect(events).toHaveLength(3);
    clock.advance(11_000);
    expect(events.at(-1)).toEqual(['1234', 'offline']);
    clock.advance(600_000);
    expect(events).toHaveLength(4);
    expect(r.stats().supervision).toEqual({ '1234': 'offline', '5678': 'offline' });
    await r.stop();
  });

  it('rejected frames do not count as signs of life', async () => {
    const clock = new ManualClock();
    const events: Array<[string, string]> = [];
    const r = make(clock, events);
    await r.start();
    clock.advance(61_000);
    const bad = buildFrame({ id: 'NULL', seq: 1, account: '1234' }).replace('"NULL"', '"NULL"'.toLowerCase());
    expect(await r.process(bad, meta)).toBeNull();
    expect(events.filter(([, s]) => s === 'online')).toEqual([]);
    await r.stop();
  });

  it('process() never throws and never answers random input', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const r = make(clock, [], async () => {
      calls++;
    });
    await r.start();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        const reply = await r.process(Buffer.concat([Buffer.from('\n'), bytes, Buffer.from('\r')]), meta);
        expect(reply).toBeNull();
      }),
      { numRuns: 500 },
    );
    expect(calls).toBe(0);
    expect(r.stats().counters.DC09_INTERNAL).toBeUndefined();
    await r.stop();
  });

  it('forgets acknowledged messages after dedupTtlMs', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const r = new Dc09Receiver({
      tcpPort: null,
      udpPort: null,
      accounts: [{ account: '1234' }],
      sink: async () => {
        calls++;
      },
      dedupTtlMs: 60_000,
      clock,
    });
    await r.start();
    const frame = buildFrame({ id: 'ADM-CID', seq: 1, account: '1234', data: '1110 01 001' });
    await r.process(frame, meta);
    clock.advance(59_000);
    await r.process(frame, meta);
    expect(calls).toBe(1);
    clock.advance(2_000);
    const reply = await r.process(frame, meta);
    expect(parseReply(reply ?? '')).toMatchObject({ ok: true, reply: { type: 'ACK' } });
    expect(calls).toBe(2);
    await r.stop();
  });
});
