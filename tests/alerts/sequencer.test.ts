import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeviceSequencer, SEQUENCER_RETRY_MS } from '../../alerts/sequencer.js';
import type { StoredEventNotice } from '../../central/bus.js';
import { ManualClock } from '../../lib/clock.js';
import { buildEnvelope } from '../../protocol/index.js';

const notice = (seq: number, deviceId = 'btn-1'): StoredEventNotice => ({
  envelope: buildEnvelope({
    kind: 'emergency_call',
    siteId: 'site-a',
    deviceId,
    seq,
    data: { action: seq % 2 ? 'cancelled' : 'pressed', room: '101' },
  }),
  gatewayId: 'gw-a',
  receivedAt: 0,
});

/** A sequencer whose store answers the highest sequence number processed so far. */
function harness(windowMs: number, ask: (answer: () => number | null) => Promise<number | null>) {
  const clock = new ManualClock(0);
  const processed: Array<{ deviceId: string; seq: number }> = [];
  const seq = new DeviceSequencer({
    windowMs,
    clock,
    lastProcessedSeq: (_site, device) =>
      ask(() => {
        const mine = processed.filter((p) => p.deviceId === device).map((p) => p.seq);
        return mine.length ? Math.max(...mine) : null;
      }),
    process: async (n) => {
      processed.push({ deviceId: n.envelope.deviceId, seq: n.envelope.seq });
    },
  });
  return { clock, processed, seq };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('DeviceSequencer', () => {
  it('keeps the events when the store cannot be asked, and goes on once it answers again', async () => {
    let down = true;
    let asked = 0;
    const h = harness(3000, async (a) => {
      asked++;
      if (down) throw new Error('Connection terminated unexpectedly');
      return a();
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      h.seq.push(notice(0));
      h.seq.push(notice(1));
      await flush();
      expect(h.processed).toEqual([]);
      expect(h.seq.waiting).toBe(2);
      h.clock.advance(SEQUENCER_RETRY_MS); // still down: asked again, still waiting
      await flush();
      expect(asked).toBeGreaterThanOrEqual(2);
      expect(h.seq.waiting).toBe(2);
      down = false;
      h.clock.advance(SEQUENCER_RETRY_MS);
      await flush();
      await flush();
      expect(h.processed.map((p) => p.seq)).toEqual([0, 1]);
      expect(h.seq.waiting).toBe(0);
      await new Promise((r) => setTimeout(r, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('passes events straight through with no window', async () => {
    const h = harness(0, async (a) => a());
    for (const s of [3, 1, 2]) h.seq.push(notice(s));
    await flush();
    expect(h.processed.map((p) => p.seq)).toEqual([3, 1, 2]);
  });

  it('holds an event until its predecessor is processed, or the window has passed', async () => {
    const h = harness(3000, async (a) => a());
    h.seq.push(notice(1));
    await flush();
    expect(h.processed).toEqual([]); // 0 not seen yet
    h.seq.push(notice(0));
    await flush();
    expect(h.processed.map((p) => p.seq)).toEqual([0, 1]);
    h.seq.push(notice(3)); // 2 never comes
    await flush();
    h.clock.advance(2900);
    await flush();
    expect(h.processed.map((p) => p.seq)).toEqual([0, 1]);
    for (let i = 0; i < 3; i++) {
      h.clock.advance(100);
      await flush();
    }
    expect(h.processed.map((p) => p.seq)).toEqual([0, 1, 3]);
    expect(h.seq.waiting).toBe(0);
  });

  it('does not drop an earlier event that arrives while the store is being asked about a later one', async () => {
    let release: (() => void) | undefined;
    const h = harness(3000, (a) => new Promise((r) => (release = () => r(a()))));
    h.seq.push(notice(0));
    await flush();
    release!(); // 0 is first: processed
    await flush();
    h.seq.push(notice(2)); // the store is asked: is 1 processed?
    await flush();
    h.seq.push(notice(1)); // ... and 1 arrives meanwhile
    release!(); // "no": 2 must wait, and 1 must not be lost
    await flush();
    for (let i = 0; i < 4 && h.processed.length < 3; i++) {
      release?.();
      await flush();
    }
    expect(h.processed.map((p) => p.seq)).toEqual([0, 1, 2]);
  });

  it('processes every event once, in order when the gaps fill, whatever the interleaving (fast-check scheduler)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(
          fc.record({
            device: fc.constantFrom('btn-1', 'btn-2'),
            seq: fc.integer({ min: 0, max: 7 }),
            // arrival round (100 ms each, window 1000 ms): some arrive after their successors gave up waiting
            round: fc.integer({ min: 0, max: 25 }),
          }),
          { minLength: 1, maxLength: 14 },
        ),
        async (s, pushes) => {
          // each (device, seq) once: a device's events as a gateway sends them, arriving in any order
          const unique = [...new Map(pushes.map((p) => [`${p.device}/${p.seq}`, p])).values()];
          const h = harness(1000, (a) => s.schedule(Promise.resolve()).then(a));
          for (let round = 0; round < 60; round++) {
            for (const p of unique.filter((x) => x.round === round)) {
              void s.schedule(Promise.resolve()).then(() => h.seq.push(notice(p.seq, p.device)));
            }
            await s.waitAll();
            h.clock.advance(100);
            await flush();
            await s.waitAll();
            if (round > 25 && h.seq.waiting === 0) break;
          }
          const got = h.processed.map((p) => `${p.deviceId}/${p.seq}`);
          expect(new Set(got).size).toBe(got.length); // none twice
          expect([...got].sort()).toEqual(unique.map((p) => `${p.device}/${p.seq}`).sort()); // none lost
          // a device whose events are 0..n and all arrive at once sees them in order
          for (const d of ['btn-1', 'btn-2']) {
            const sent = unique.filter((p) => p.device === d);
            const contiguous = [...sent].sort((a, b) => a.seq - b.seq).every((p, i) => p.seq === i);
            if (sent.length > 0 && contiguous && new Set(sent.map((p) => p.round)).size === 1)
              expect(h.processed.filter((p) => p.deviceId === d).map((p) => p.seq)).toEqual(
                sent.map((p) => p.seq).sort((a, b) => a - b),
              );
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
