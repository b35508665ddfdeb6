import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../storage/types.js';
import { type Current, draft, KEY, storedEvent, T0 } from './fixtures.js';

const by = (actor: string, at: number, note: string | null = null) => ({ actor, at, note });

export function alertContract(h: Current): void {
  describe('alerts: open, repeat, resolve', () => {
    it('opens one alert per key and counts repeats on it', async () => {
      const { alerts } = h().store;
      const first = await alerts.openOrRepeat(draft({ eventId: 'e1' }));
      expect(first).toMatchObject({ created: true, alert: { state: 'open', count: 1, escalationLevel: 0 } });
      const { alert } = first as { alert: Alert };
      expect(alert).toMatchObject({
        ...KEY,
        drill: false,
        openedAt: T0,
        updatedAt: T0,
        nextEscalationAt: T0 + 60_000,
      });
      const second = await alerts.openOrRepeat(draft({ at: T0 + 5, eventId: 'e2' }));
      expect(second).toMatchObject({ created: false, alert: { id: alert.id, count: 2, updatedAt: T0 + 5 } });
      const other = await alerts.openOrRepeat(draft({ source: 'btn-2' }));
      expect(other).toMatchObject({ created: true, alert: { count: 1 } });
      expect((await alerts.list({ states: ['open'] })).length).toBe(2);
      expect(
        (await alerts.audit(alert.id)).map((a) => [a.action, a.fromState, a.toState, a.eventId]),
      ).toEqual([
        ['opened', null, 'open', 'e1'],
        ['repeated', 'open', 'open', 'e2'],
      ]);
    });

    it('keeps drill and suppression as drafted', async () => {
      const { alerts } = h().store;
      const r = await alerts.openOrRepeat(
        draft({ drill: true, suppressed: 'silenced', nextEscalationAt: null }),
      );
      expect(r).toMatchObject({ alert: { drill: true, suppressed: 'silenced', nextEscalationAt: null } });
    });

    it('repeats on an acknowledged alert, opens a new one after it is resolved', async () => {
      const { alerts } = h().store;
      const { alert } = (await alerts.openOrRepeat(draft())) as { alert: Alert };
      await alerts.transition(alert.id, ['open'], 'acknowledged', by('u1', T0 + 1));
      expect(await alerts.openOrRepeat(draft())).toMatchObject({
        created: false,
        alert: { state: 'acknowledged' },
      });
      const resolved = await alerts.resolveByKey(KEY, {
        actor: 'btn',
        at: T0 + 2,
        note: 'cancelled',
        eventId: 'e9',
      });
      expect(resolved).toMatchObject({
        id: alert.id,
        state: 'resolved',
        resolvedAt: T0 + 2,
        resolvedBy: 'btn',
      });
      expect(
        await alerts.resolveByKey(KEY, { actor: 'btn', at: T0 + 3, note: 'again', eventId: null }),
      ).toBeNull();
      const again = await alerts.openOrRepeat(draft({ at: T0 + 4 }));
      expect(again).toMatchObject({ created: true, alert: { count: 1, state: 'open' } });
      expect((again as { alert: Alert }).alert.id).not.toBe(alert.id);
      expect(await alerts.list({ siteIds: ['site-a'], types: ['emergency_call'] })).toHaveLength(2);
      const last = (await alerts.audit(alert.id)).at(-1);
      expect(last).toMatchObject({
        action: 'resolved',
        fromState: 'acknowledged',
        note: 'cancelled',
        eventId: 'e9',
      });
    });

    it('keeps one open alert per key when openers race', async () => {
      const { alerts } = h().store;
      const rs = await Promise.all(
        Array.from({ length: 8 }, (_, i) => alerts.openOrRepeat(draft({ at: T0 + i }))),
      );
      expect(rs.filter((r) => r !== 'already-processed' && r.created)).toHaveLength(1);
      const open = await alerts.list({ states: ['open'] });
      expect(open).toHaveLength(1);
      expect(open[0]!.count).toBe(8);
    });
  });

  describe('alerts: the exactly-once claim of the triggering event', () => {
    it('changes alerts once per event, whichever method sees it again', async () => {
      const { alerts, events } = h().store;
      const e1 = await storedEvent(h().store, { seq: 1 });
      const e2 = await storedEvent(h().store, { seq: 2 });
      const first = await alerts.openOrRepeat(draft({ eventId: e1 }), e1);
      expect(first).toMatchObject({ created: true });
      expect(await alerts.openOrRepeat(draft({ eventId: e1 }), e1)).toBe('already-processed');
      expect(await alerts.resolveByKey(KEY, { actor: 'x', at: T0, note: 'n', eventId: e1 }, e1)).toBe(
        'already-processed',
      );
      expect((await alerts.list({}))[0]!.count).toBe(1);
      expect((await events.unprocessed(10)).map((e) => e.id)).toEqual([e2]);
      expect(await events.lastProcessedSeq('site-a', 'btn-1')).toBe(1);
      const resolved = await alerts.resolveByKey(
        KEY,
        { actor: 'btn', at: T0 + 1, note: 'n', eventId: e2 },
        e2,
      );
      expect(resolved).toMatchObject({ state: 'resolved' });
      expect(await alerts.resolveByKey(KEY, { actor: 'btn', at: T0 + 1, note: 'n', eventId: e2 }, e2)).toBe(
        'already-processed',
      );
      expect(await events.unprocessed(10)).toEqual([]);
    });

    it('claims an event that resolves nothing, and a marked event cannot be claimed', async () => {
      const { alerts, events } = h().store;
      const e1 = await storedEvent(h().store, { seq: 1 });
      expect(await alerts.resolveByKey(KEY, { actor: 'x', at: T0, note: 'n', eventId: e1 }, e1)).toBeNull();
      expect(await alerts.resolveByKey(KEY, { actor: 'x', at: T0, note: 'n', eventId: e1 }, e1)).toBe(
        'already-processed',
      );
      const e2 = await storedEvent(h().store, { seq: 2 });
      await events.markProcessed(e2);
      expect(await alerts.openOrRepeat(draft(), e2)).toBe('already-processed');
      expect(await alerts.list({})).toEqual([]);
    });

    it('lets exactly one of concurrent claims of the same event through', async () => {
      const { alerts } = h().store;
      const e = await storedEvent(h().store);
      const rs = await Promise.all(
        Array.from({ length: 6 }, () => alerts.openOrRepeat(draft({ eventId: e }), e)),
      );
      expect(rs.filter((r) => r === 'already-processed')).toHaveLength(5);
      expect((await alerts.list({}))[0]!.count).toBe(1);
    });

    it('never lets an older event of a key override a newer one', async () => {
      const { alerts } = h().store;
      await alerts.openOrRepeat(draft({ seq: 5 }));
      expect(
        await alerts.resolveByKey(KEY, { actor: 'btn', at: T0 + 6, note: 'n', eventId: null, seq: 6 }),
      ).toMatchObject({ state: 'resolved' });
      // an open older than that resolve: recorded, resolved at once
      const late = await alerts.openOrRepeat(draft({ seq: 4, at: T0 + 7 }));
      expect(late).toMatchObject({
        created: true,
        alert: {
          state: 'resolved',
          resolvedBy: 'system:late-event',
          resolvedAt: T0 + 7,
          nextEscalationAt: null,
        },
      });
      const lateId = (late as { alert: Alert }).alert.id;
      expect((await alerts.audit(lateId)).map((a) => a.action)).toEqual(['opened', 'resolved']);
      expect(await alerts.list({ states: ['open'] })).toEqual([]);
      // a newer open, then an older resolve: the alert stays open
      await alerts.openOrRepeat(draft({ seq: 8, at: T0 + 8 }));
      expect(
        await alerts.resolveByKey(KEY, { actor: 'btn', at: T0 + 9, note: 'n', eventId: null, seq: 7 }),
      ).toBeNull();
      expect(await alerts.list({ states: ['open'] })).toHaveLength(1);
    });
  });

  describe('alerts: transitions and escalation (compare-and-set)', () => {
    it('acknowledges once and resolves once', async () => {
      const { alerts } = h().store;
      const { alert } = (await alerts.openOrRepeat(draft())) as { alert: Alert };
      const acked = await alerts.transition(
        alert.id,
        ['open'],
        'acknowledged',
        by('nurse', T0 + 10, 'on my way'),
      );
      expect(acked).toMatchObject({
        state: 'acknowledged',
        ackedAt: T0 + 10,
        ackedBy: 'nurse',
        nextEscalationAt: null,
      });
      expect(await alerts.transition(alert.id, ['open'], 'acknowledged', by('other', T0 + 11))).toBeNull();
      const done = await alerts.transition(
        alert.id,
        ['open', 'acknowledged'],
        'resolved',
        by('nurse', T0 + 20),
      );
      expect(done).toMatchObject({ state: 'resolved', resolvedAt: T0 + 20, ackedBy: 'nurse' });
      expect(
        await alerts.transition(alert.id, ['open', 'acknowledged'], 'resolved', by('x', T0 + 21)),
      ).toBeNull();
      expect(await alerts.transition('no-such-alert', ['open'], 'acknowledged', by('x', T0))).toBeNull();
      expect((await alerts.audit(alert.id)).map((a) => [a.action, a.actor, a.note])).toEqual([
        ['opened', 'system:rules', null],
        ['acknowledged', 'nurse', 'on my way'],
        ['resolved', 'nurse', null],
      ]);
    });

    it('lets exactly one of two concurrent acknowledgements win', async () => {
      const { alerts } = h().store;
      const { alert } = (await alerts.openOrRepeat(draft())) as { alert: Alert };
      const rs = await Promise.all([
        alerts.transition(alert.id, ['open'], 'acknowledged', by('a', T0 + 1)),
        alerts.transition(alert.id, ['open'], 'acknowledged', by('b', T0 + 1)),
      ]);
      expect(rs.filter((r) => r !== null)).toHaveLength(1);
    });

    it('escalates one level per step, only while open at the expected level', async () => {
      const { alerts } = h().store;
      const { alert } = (await alerts.openOrRepeat(draft())) as { alert: Alert };
      const up = await alerts.escalate(alert.id, 0, T0 + 60_000, T0 + 120_000, 'system:escalation');
      expect(up).toMatchObject({
        escalationLevel: 1,
        nextEscalationAt: T0 + 120_000,
        updatedAt: T0 + 60_000,
      });
      expect(await alerts.escalate(alert.id, 0, T0 + 60_000, T0 + 120_000, 'system:escalation')).toBeNull();
      const rs = await Promise.all([
        alerts.escalate(alert.id, 1, T0 + 120_000, T0 + 180_000, 'instance-a'),
        alerts.escalate(alert.id, 1, T0 + 120_000, T0 + 180_000, 'instance-b'),
      ]);
      expect(rs.filter((r) => r !== null)).toHaveLength(1);
      expect((await alerts.get(alert.id))?.escalationLevel).toBe(2);
      await alerts.transition(alert.id, ['open'], 'acknowledged', by('nurse', T0 + 130_000));
      expect(await alerts.escalate(alert.id, 2, T0 + 180_000, null, 'system:escalation')).toBeNull();
      const levels = (await alerts.audit(alert.id))
        .filter((a) => a.action === 'escalated')
        .map((a) => a.level);
      expect(levels).toEqual([1, 2]);
    });

    it('records a reminder once per repeat count, resets the count on a climb, none after an ack', async () => {
      const { alerts } = h().store;
      const { alert } = (await alerts.openOrRepeat(draft())) as { alert: Alert };
      expect(alert.repeatCount).toBe(0);
      const r = (from: number, to: number, at: number, next: number | null, actor = 'system:escalation') =>
        alerts.renotify(alert.id, {
          level: 0,
          fromRepeat: from,
          toRepeat: to,
          at,
          nextEscalationAt: next,
          actor,
          note: `repeat ${to} of 3`,
        });
      expect(await r(0, 1, T0 + 20_000, T0 + 40_000)).toMatchObject({
        escalationLevel: 0,
        repeatCount: 1,
        nextEscalationAt: T0 + 40_000,
        updatedAt: T0 + 20_000,
        state: 'open',
      });
      expect(await r(0, 1, T0 + 20_000, T0 + 40_000)).toBeNull(); // the same repeat again
      const rs = await Promise.all([
        r(1, 2, T0 + 40_000, T0 + 60_000, 'instance-a'),
        r(1, 2, T0 + 40_000, T0 + 60_000, 'instance-b'),
      ]);
      expect(rs.filter((x) => x !== null)).toHaveLength(1);
      // a skip over missed repeats: the count jumps, still one audit entry
      expect(await r(2, 3, T0 + 70_000, T0 + 90_000)).toMatchObject({ repeatCount: 3 });
      const up = await alerts.escalate(alert.id, 0, T0 + 90_000, T0 + 150_000, 'system:escalation');
      expect(up).toMatchObject({ escalationLevel: 1, repeatCount: 0 });
      expect(await r(3, 4, T0 + 95_000, null)).toBeNull(); // level 0 is over
      const atLevel1 = await alerts.renotify(alert.id, {
        level: 1,
        fromRepeat: 0,
        toRepeat: 1,
        at: T0 + 100_000,
        nextEscalationAt: T0 + 150_000,
        actor: 'system:escalation',
        note: null,
      });
      expect(atLevel1).toMatchObject({ escalationLevel: 1, repeatCount: 1 });
      await alerts.transition(alert.id, ['open'], 'acknowledged', by('head', T0 + 110_000));
      const afterAck = await alerts.renotify(alert.id, {
        level: 1,
        fromRepeat: 1,
        toRepeat: 2,
        at: T0 + 120_000,
        nextEscalationAt: null,
        actor: 'system:escalation',
        note: null,
      });
      expect(afterAck).toBeNull();
      expect(
        (await alerts.audit(alert.id))
          .filter((a) => a.action === 'renotified' || a.action === 'escalated')
          .map((a) => [a.action, a.level, a.at - T0, a.note]),
      ).toEqual([
        ['renotified', 0, 20_000, 'repeat 1 of 3'],
        ['renotified', 0, 40_000, 'repeat 2 of 3'],
        ['renotified', 0, 70_000, 'repeat 3 of 3'],
        ['escalated', 1, 90_000, null],
        ['renotified', 1, 100_000, null],
      ]);
      expect(await alerts.nextDueAt()).toBeNull();
    });

    it('reports due escalations in deadline order and the next deadline', async () => {
      const { alerts } = h().store;
      expect(await alerts.nextDueAt()).toBeNull();
      const a = (await alerts.openOrRepeat(draft({ source: 'a', nextEscalationAt: T0 + 300 }))) as {
        alert: Alert;
      };
      const b = (await alerts.openOrRepeat(draft({ source: 'b', nextEscalationAt: T0 + 100 }))) as {
        alert: Alert;
      };
      await alerts.openOrRepeat(draft({ source: 'c', nextEscalationAt: null }));
      await alerts.openOrRepeat(draft({ source: 'd', nextEscalationAt: T0 + 900 }));
      expect(await alerts.nextDueAt()).toBe(T0 + 100);
      expect((await alerts.due(T0 + 300, 10)).map((x) => x.id)).toEqual([b.alert.id, a.alert.id]);
      expect((await alerts.due(T0 + 300, 1)).map((x) => x.id)).toEqual([b.alert.id]);
      expect(await alerts.due(T0 + 99, 10)).toEqual([]);
      await alerts.transition(b.alert.id, ['open'], 'acknowledged', by('n', T0 + 150));
      expect(await alerts.nextDueAt()).toBe(T0 + 300);
      expect(await alerts.get('missing')).toBeNull();
    });
  });

  describe('alerts: audit', () => {
    it('refuses UPDATE and DELETE on the audit table', async () => {
      const { alerts } = h().store;
      const { alert } = (await alerts.openOrRepeat(draft())) as { alert: Alert };
      await expect(h().exec(`UPDATE alert_audit SET note = 'changed'`)).rejects.toThrow(/append-only/);
      await expect(h().exec(`DELETE FROM alert_audit WHERE alert_id = '${alert.id}'`)).rejects.toThrow(
        /append-only/,
      );
      expect(await alerts.audit(alert.id)).toHaveLength(1);
      expect((await alerts.audit(alert.id))[0]!.note).toBeNull();
    });
  });
}
