import { describe, expect, it } from 'vitest';
import { type Current, call, heartbeat, incoming, T0 } from './fixtures.js';

export function eventContract(h: Current): void {
  describe('events', () => {
    it('inserts a batch and reports per item whether it was new, duplicates within and across batches', async () => {
      const { events } = h().store;
      const a = call({ seq: 1 });
      const b = call({ seq: 2 });
      const c = call({ seq: 3 });
      expect(await events.insertBatch([])).toEqual([]);
      expect(await events.insertBatch([incoming(a), incoming(b), incoming(a)])).toEqual([true, true, false]);
      expect(await events.insertBatch([incoming(b, T0 + 5), incoming(c, T0 + 5)])).toEqual([false, true]);
      expect(await events.count()).toBe(3);
      // the first copy is the one kept
      expect(await events.count({ until: T0 + 1 })).toBe(2);
    });

    it('keeps the envelope and its columns as given', async () => {
      const { events } = h().store;
      const e = call({ siteId: 'site-b', deviceId: 'btn-9', seq: 2 ** 40, drill: true });
      await events.insertBatch([incoming(e, T0 + 7, null)]);
      const [got] = await events.list({});
      expect(got).toEqual({
        id: e.id,
        siteId: 'site-b',
        deviceId: 'btn-9',
        kind: 'emergency_call',
        seq: 2 ** 40,
        ts: e.ts,
        receivedAt: T0 + 7,
        drill: true,
        gatewayId: null,
        envelope: e,
      });
    });

    it('inserts a batch larger than one statement holds', async () => {
      const { events } = h().store;
      const batch = Array.from({ length: 2500 }, (_, i) => incoming(call({ seq: i }), T0 + i));
      const first = await events.insertBatch(batch);
      expect(first.every(Boolean)).toBe(true);
      const again = await events.insertBatch([
        ...batch.slice(2400),
        incoming(call({ seq: 9999 }), T0 + 9999),
      ]);
      expect(again.filter(Boolean)).toHaveLength(1);
      expect(again.at(-1)).toBe(true);
      expect(await events.count()).toBe(2501);
    });

    it('lists unprocessed events in arrival order until they are processed', async () => {
      const { events } = h().store;
      const es = [call({ seq: 1 }), call({ seq: 2 }), call({ seq: 3 }), call({ seq: 4 })];
      // same receivedAt: insertion order decides
      await events.insertBatch([incoming(es[2]!, T0 + 10), incoming(es[0]!, T0), incoming(es[1]!, T0)]);
      await events.insertBatch([incoming(es[3]!, T0)]);
      expect((await events.unprocessed(10)).map((e) => e.seq)).toEqual([1, 2, 4, 3]);
      expect((await events.unprocessed(2)).map((e) => e.seq)).toEqual([1, 2]);
      expect(await events.lastProcessedSeq('site-a', 'btn-1')).toBeNull();
      await events.markProcessed(es[1]!.id);
      await events.markProcessed(es[1]!.id);
      await events.markProcessed(es[0]!.id);
      expect((await events.unprocessed(10)).map((e) => e.seq)).toEqual([4, 3]);
      expect(await events.lastProcessedSeq('site-a', 'btn-1')).toBe(2);
      expect(await events.lastProcessedSeq('site-a', 'btn-2')).toBeNull();
    });

    it('pages unprocessed events of some kinds by a (received_at, id) cursor', async () => {
      const { events } = h().store;
      const calls = [1, 2, 3, 4].map((seq) => call({ seq }));
      const beat = heartbeat({ seq: 1 });
      // two calls share a receivedAt: the id breaks the tie
      await events.insertBatch([
        incoming(calls[0]!, T0 + 2),
        incoming(beat, T0 + 1),
        incoming(calls[1]!, T0 + 1),
        incoming(calls[2]!, T0 + 1),
        incoming(calls[3]!, T0 + 3),
      ]);
      await events.markProcessed(calls[3]!.id);
      const tied = [calls[1]!, calls[2]!].sort((a, b) => (a.id < b.id ? -1 : 1)).map((e) => e.seq);
      const all = await events.unprocessedOf(['emergency_call'], null, 10);
      expect(all.map((e) => e.seq)).toEqual([...tied, 1]);
      const first = await events.unprocessedOf(['emergency_call'], null, 1);
      expect(first.map((e) => e.seq)).toEqual([tied[0]]);
      const rest = await events.unprocessedOf(
        ['emergency_call'],
        { receivedAt: first[0]!.receivedAt, id: first[0]!.id },
        10,
      );
      expect(rest.map((e) => e.seq)).toEqual([tied[1], 1]);
      expect(
        (await events.unprocessedOf(['gateway_heartbeat', 'attendance'], null, 10)).map((e) => e.id),
      ).toEqual([beat.id]);
      expect(await events.unprocessedOf([], null, 10)).toEqual([]);
      expect(
        await events.unprocessedOf(['emergency_call'], { receivedAt: T0 + 2, id: calls[0]!.id }, 10),
      ).toEqual([]);
    });

    it('marks a burst processed in one call, ignoring unknown and repeated ids', async () => {
      const { events } = h().store;
      const es = [1, 2, 3, 4, 5].map((seq) => call({ seq }));
      await events.insertBatch(es.map((e, i) => incoming(e, T0 + i)));
      await events.markProcessedMany([]);
      await events.markProcessedMany([
        es[0]!.id,
        es[2]!.id,
        es[2]!.id,
        '01900000-0000-7000-8000-0000000000ff',
      ]);
      expect((await events.unprocessed(10)).map((e) => e.seq)).toEqual([2, 4, 5]);
      expect(await events.lastProcessedSeq('site-a', 'btn-1')).toBe(3);
      await events.markProcessedMany(es.map((e) => e.id));
      expect(await events.unprocessed(10)).toEqual([]);
    });

    it('lists and counts with filters, newest first', async () => {
      const { events } = h().store;
      await events.insertBatch([
        incoming(call({ siteId: 'site-a', seq: 1 }), T0),
        incoming(call({ siteId: 'site-b', seq: 1 }), T0 + 1000),
        incoming(heartbeat({ siteId: 'site-a' }), T0 + 2000),
        incoming(call({ siteId: 'site-c', seq: 2 }), T0 + 3000),
      ]);
      const sites = async (q: Parameters<typeof events.list>[0]) =>
        (await events.list(q)).map((e) => e.siteId);
      expect(await sites({})).toEqual(['site-c', 'site-a', 'site-b', 'site-a']);
      expect(await sites({ siteIds: ['site-a', 'site-b'] })).toEqual(['site-a', 'site-b', 'site-a']);
      expect(await sites({ siteIds: [] })).toEqual([]);
      expect(await sites({ kinds: ['gateway_heartbeat'] })).toEqual(['site-a']);
      expect(await sites({ kind: 'emergency_call', siteIds: ['site-a'] })).toEqual(['site-a']);
      expect(await sites({ since: T0 + 1000, until: T0 + 3000 })).toEqual(['site-a', 'site-b']);
      expect(await sites({ limit: 2 })).toEqual(['site-c', 'site-a']);
      expect(await events.count()).toBe(4);
      expect(await events.count({ kind: 'emergency_call' })).toBe(3);
      expect(await events.count({ siteIds: ['site-a'], since: T0 + 1 })).toBe(1);
      expect(await events.count({ kinds: ['nothing'] })).toBe(0);
    });

    it('records rejects, newest first, the excerpt only when given', async () => {
      const { events } = h().store;
      await events.recordReject({ at: T0, gatewayId: 'gw-a', topic: 't/1', code: 'BAD_JSON', message: 'm1' });
      await events.recordReject({
        at: T0 + 1,
        gatewayId: null,
        topic: 't/2',
        code: 'UNKNOWN_DEVICE',
        message: 'm2',
        excerpt: '{"x":1}',
      });
      expect(await events.rejects(10)).toEqual([
        {
          at: T0 + 1,
          gatewayId: null,
          topic: 't/2',
          code: 'UNKNOWN_DEVICE',
          message: 'm2',
          excerpt: '{"x":1}',
        },
        { at: T0, gatewayId: 'gw-a', topic: 't/1', code: 'BAD_JSON', message: 'm1' },
      ]);
      expect(await events.rejects(1)).toHaveLength(1);
    });
  });
}
