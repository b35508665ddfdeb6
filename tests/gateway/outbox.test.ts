import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox } from '../../gateway/outbox.js';
import { decodeEnvelope } from '../../protocol/index.js';
import { openDatabase } from '../../storage/sqlite/open.js';
import { tempDir } from '../helpers/procs.js';

describe('gateway outbox', () => {
  const dirs: Array<{ cleanup: () => void }> = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) d.cleanup();
  });
  const open = () => {
    const d = tempDir('cw-outbox-');
    dirs.push(d);
    return `${d.path}/gw.db`;
  };

  it('mints valid envelopes with per-device sequences that survive a reopen', async () => {
    const path = open();
    let db = openDatabase(path);
    let ob = new Outbox(db, 'site-a');
    const a = await ob.add({ kind: 'emergency_call', deviceId: 'b1', data: { action: 'pressed' } });
    const b = await ob.add({ kind: 'emergency_call', deviceId: 'b1', data: { action: 'cancelled' } });
    const c = await ob.add({ kind: 'emergency_call', deviceId: 'b2', data: { action: 'pressed' } });
    expect([a.seq, b.seq, c.seq]).toEqual([0, 1, 0]);
    for (const e of ob.peek(10, new Set())) expect(decodeEnvelope(e.payload).ok).toBe(true);
    db.close();
    db = openDatabase(path);
    ob = new Outbox(db, 'site-a');
    expect(ob.stats().depth).toBe(3);
    const d = await ob.add({ kind: 'emergency_call', deviceId: 'b1', data: { action: 'pressed' } });
    expect(d.seq).toBe(2);
    db.close();
  });

  it('drains the alarm lane first and keeps each lane in order, skipping what is in flight or acknowledged', async () => {
    const db = openDatabase(open());
    const ob = new Outbox(db, 'site-a');
    const hb = { uptimeS: 1, intervalS: 1, outboxDepth: 0, version: 't' };
    await ob.add({ kind: 'gateway_heartbeat', deviceId: 'gw', data: hb }); // normal lane
    await ob.add({ kind: 'emergency_call', deviceId: 'b1', data: { action: 'pressed' } });
    await ob.add({ kind: 'gateway_heartbeat', deviceId: 'gw', data: hb });
    await ob.add({ kind: 'emergency_call', deviceId: 'b1', data: { action: 'cancelled' } });
    const order = ob.peek(10, new Set()).map((e) => JSON.parse(e.payload.toString()).kind);
    expect(order).toEqual(['emergency_call', 'emergency_call', 'gateway_heartbeat', 'gateway_heartbeat']);
    const [first, second] = ob.peek(10, new Set());
    expect(ob.peek(10, new Set([first!.seq]))[0]!.seq).toBe(second!.seq);
    ob.remove(first!.seq);
    expect(ob.peek(10, new Set())[0]!.seq).toBe(second!.seq); // pending removal is not offered again
    await new Promise((r) => setImmediate(r));
    expect(ob.stats().depth).toBe(3);
    db.close();
  });

  it('never loses or reorders entries of one device, whatever the interleaving of adds and removes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom('b1', 'b2', 'b3', 'ack'), { maxLength: 60 }), async (ops) => {
        const d = tempDir('cw-ob-prop-');
        const db = openDatabase(`${d.path}/gw.db`, { synchronous: 'NORMAL' });
        const ob = new Outbox(db, 's');
        const delivered: Array<{ dev: string; seq: number }> = [];
        for (const op of ops) {
          if (op === 'ack') {
            const [e] = ob.peek(1, new Set());
            if (e) {
              const env = JSON.parse(e.payload.toString());
              delivered.push({ dev: env.deviceId, seq: env.seq });
              ob.remove(e.seq);
            }
          } else await ob.add({ kind: 'emergency_call', deviceId: op, data: { action: 'pressed' } });
        }
        await new Promise((r) => setImmediate(r));
        for (const e of ob.peek(1000, new Set())) {
          const env = JSON.parse(e.payload.toString());
          delivered.push({ dev: env.deviceId, seq: env.seq });
        }
        for (const dev of ['b1', 'b2', 'b3']) {
          const seqs = delivered.filter((x) => x.dev === dev).map((x) => x.seq);
          expect(seqs).toEqual(seqs.map((_, i) => i));
          expect(seqs.length).toBe(ops.filter((o) => o === dev).length);
        }
        db.close();
        d.cleanup();
      }),
      { numRuns: 50 },
    );
  });

  it("puts an alarm raised while online ahead of other devices' backlog, never ahead of its own device's", async () => {
    let live = false;
    const db = openDatabase(open(), { synchronous: 'NORMAL' });
    const ob = new Outbox(db, 'site-a', () => live);
    for (let i = 0; i < 3; i++)
      await ob.add({ kind: 'emergency_call', deviceId: 'old', data: { action: 'pressed' } });
    await ob.add({ kind: 'emergency_call', deviceId: 'mixed', data: { action: 'pressed' } });
    live = true; // the link comes back: the backlog drains, new alarms arrive
    await ob.add({ kind: 'emergency_call', deviceId: 'fresh', data: { action: 'pressed' } });
    await ob.add({ kind: 'emergency_call', deviceId: 'mixed', data: { action: 'cancelled' } });
    const order = ob.peek(10, new Set()).map((e) => {
      const env = JSON.parse(e.payload.toString());
      return `${env.deviceId}:${env.seq}`;
    });
    expect(order[0]).toBe('fresh:0');
    expect(order.indexOf('mixed:0')).toBeLessThan(order.indexOf('mixed:1'));
    db.close();
  });

  it('keeps each device in order whatever the link does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ dev: fc.constantFrom('b1', 'b2', 'b3'), live: fc.boolean(), ack: fc.boolean() }),
          { maxLength: 50 },
        ),
        async (ops) => {
          const d = tempDir('cw-ob-live-');
          let live = false;
          const db = openDatabase(`${d.path}/gw.db`, { synchronous: 'NORMAL' });
          const ob = new Outbox(db, 's', () => live);
          const delivered: Array<{ dev: string; seq: number }> = [];
          const take = () => {
            const [e] = ob.peek(1, new Set());
            if (!e) return;
            const env = JSON.parse(e.payload.toString());
            delivered.push({ dev: env.deviceId, seq: env.seq });
            ob.remove(e.seq);
          };
          for (const op of ops) {
            live = op.live;
            await ob.add({ kind: 'emergency_call', deviceId: op.dev, data: { action: 'pressed' } });
            if (op.ack) take();
          }
          await new Promise((r) => setImmediate(r));
          for (let i = 0; i < ops.length; i++) take();
          ob.flushNow();
          for (const dev of ['b1', 'b2', 'b3']) {
            const seqs = delivered.filter((x) => x.dev === dev).map((x) => x.seq);
            expect(seqs).toEqual(seqs.map((_, i) => i));
          }
          db.close();
          d.cleanup();
        },
      ),
      { numRuns: 60 },
    );
  });
});
