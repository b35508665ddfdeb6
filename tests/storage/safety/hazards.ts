import { expect, it } from 'vitest';
import { type HazardEvents, HazardService } from '../../../alerts/hazards/index.js';
import type { HazardDraft, HazardRepo } from '../../../alerts/hazards/types.js';
import { ManualClock } from '../../../lib/clock.js';
import { MIN, type SafetyCurrent, T0, until } from './harness.js';

let n = 0;
export function hazardDraft(p: Partial<HazardDraft> = {}): HazardDraft {
  n++;
  return {
    id: `hz-${n}`,
    siteId: 's1',
    source: `dev-${n}`,
    kind: 'panel_trouble',
    title: `hazard ${n}`,
    at: T0 + n,
    alertId: `al-${n}`,
    actor: 'system:hazards',
    ...p,
  };
}

const falseAlarm = (alertId: string, resolvedAt: number, source = 'smoke-3') => ({
  alertId,
  siteId: 's1',
  source,
  resolvedAt,
  note: '误报',
});

/** The HazardRepo contract (alerts/hazards/types.ts). */
export function hazardContract(current: () => SafetyCurrent): void {
  const repo = () => current().store.hazards;

  it('hazards: one open entry per (site, source, kind) and one entry per alert ever', async () => {
    const d = hazardDraft({ source: 'panel-1', alertId: 'al-a' });
    const opened = await repo().open(d);
    expect(opened).toMatchObject({ id: d.id, state: 'open', openedAt: d.at, responsible: null });
    expect(await repo().open(hazardDraft({ source: 'panel-1', alertId: 'al-b' }))).toBeNull();
    expect(await repo().open(hazardDraft({ source: 'panel-1', kind: 'camera_offline' }))).not.toBeNull();
    await repo().close(d.id, { note: '已修复', actor: 'u', at: T0 + MIN });
    expect(await repo().open(hazardDraft({ source: 'panel-1', alertId: 'al-a' }))).toBeNull();
    expect(await repo().open(hazardDraft({ source: 'panel-1', alertId: 'al-c' }))).not.toBeNull();
    expect(await repo().open(hazardDraft({ source: 'x', alertId: null, kind: 'other' }))).not.toBeNull();
    expect(await repo().open(hazardDraft({ source: 'y', alertId: null, kind: 'other' }))).not.toBeNull();
    expect((await repo().log(d.id)).map((e) => [e.action, e.actor, e.note])).toEqual([
      ['opened', 'system:hazards', d.title],
      ['closed', 'u', '已修复'],
    ]);
  });

  it('hazards: lists newest first with filters', async () => {
    const a = (await repo().open(hazardDraft({ siteId: 's1', kind: 'panel_trouble', at: T0 })))!;
    const b = (await repo().open(hazardDraft({ siteId: 's2', kind: 'coverage_gap', at: T0 + 1 })))!;
    const c = (await repo().open(hazardDraft({ siteId: 's1', kind: 'camera_offline', at: T0 + 2 })))!;
    await repo().close(c.id, { note: 'ok', actor: 'u', at: T0 + 3 });
    const ids = async (f: Parameters<HazardRepo['list']>[0]) => (await repo().list(f)).map((x) => x.id);
    expect(await ids({})).toEqual([c.id, b.id, a.id]);
    expect(await ids({ siteIds: ['s1'] })).toEqual([c.id, a.id]);
    expect(await ids({ states: ['open'], kinds: ['panel_trouble', 'coverage_gap'] })).toEqual([b.id, a.id]);
    expect(await ids({ states: ['closed'] })).toEqual([c.id]);
    expect(await ids({ kinds: [] })).toEqual([]);
    expect(await ids({ limit: 2 })).toEqual([c.id, b.id]);
    expect(await repo().get('nope')).toBeNull();
  });

  it('hazards: assign sets the deadline, a new one re-arms the overdue notice, closing needs a live entry', async () => {
    const h = (await repo().open(hazardDraft()))!;
    const by = T0 + 60 * MIN;
    expect(
      await repo().assign(h.id, { responsible: '张三', rectifyBy: by, actor: 'u', at: T0 }),
    ).toMatchObject({ state: 'rectifying', responsible: '张三', rectifyBy: by, escalatedAt: null });
    expect(await repo().overdue(by - 1, 10)).toEqual([]);
    expect((await repo().overdue(by, 10)).map((x) => x.id)).toEqual([h.id]);
    expect(await repo().nextDueAt()).toBe(by);
    expect(await repo().markEscalated(h.id, by)).toMatchObject({ escalatedAt: by });
    expect(await repo().markEscalated(h.id, by + 1)).toBeNull();
    expect(await repo().overdue(by + MIN, 10)).toEqual([]);
    expect(await repo().nextDueAt()).toBeNull();
    // the same deadline again keeps the notice; a new one re-arms it
    await repo().assign(h.id, { responsible: '李四', rectifyBy: by, actor: 'u', at: by + 1 });
    expect((await repo().get(h.id))?.escalatedAt).toBe(by);
    const later = by + 24 * 60 * MIN;
    await repo().assign(h.id, { responsible: '李四', rectifyBy: later, actor: 'u', at: by + 2 });
    expect((await repo().get(h.id))?.escalatedAt).toBeNull();
    expect(await repo().markEscalated(h.id, later - 1)).toBeNull(); // not overdue yet
    expect(await repo().close(h.id, { note: '整改完成', actor: 'u', at: by + 3 })).toMatchObject({
      state: 'closed',
      closedBy: 'u',
      closeNote: '整改完成',
    });
    expect(await repo().close(h.id, { note: 'again', actor: 'u', at: by + 4 })).toBeNull();
    expect(
      await repo().assign(h.id, { responsible: 'x', rectifyBy: later, actor: 'u', at: by + 4 }),
    ).toBeNull();
    expect(await repo().markEscalated(h.id, later)).toBeNull();
    expect(await repo().assign('nope', { responsible: 'x', rectifyBy: 1, actor: 'u', at: 1 })).toBeNull();
    expect((await repo().log(h.id)).map((e) => e.action)).toEqual([
      'opened',
      'assigned',
      'overdue',
      'assigned',
      'assigned',
      'closed',
    ]);
  });

  it('hazards: watches keep the earliest check and count for nextDueAt', async () => {
    const w = {
      alertId: 'al-w',
      siteId: 's1',
      source: 'cam-1',
      kind: 'camera_offline' as const,
      title: 'cam',
    };
    await repo().watch({ ...w, checkAt: T0 + 10 * MIN });
    await repo().watch({ ...w, checkAt: T0 + 20 * MIN });
    await repo().watch({ ...w, checkAt: T0 + 5 * MIN });
    expect(await repo().nextDueAt()).toBe(T0 + 5 * MIN);
    expect(await repo().dueWatches(T0 + 5 * MIN - 1, 10)).toEqual([]);
    expect(await repo().dueWatches(T0 + 5 * MIN, 10)).toEqual([{ ...w, checkAt: T0 + 5 * MIN }]);
    const h = (await repo().open(hazardDraft()))!;
    await repo().assign(h.id, { responsible: 'x', rectifyBy: T0 + MIN, actor: 'u', at: T0 });
    expect(await repo().nextDueAt()).toBe(T0 + MIN);
    await repo().unwatch('al-w');
    await repo().unwatch('al-w');
    expect(await repo().dueWatches(T0 + 60 * MIN, 10)).toEqual([]);
  });

  it('hazards: repeated false alarms open one entry at the threshold and consume the alarms', async () => {
    const rule = (id: string) => ({
      threshold: 3,
      windowMs: 60 * MIN,
      draft: hazardDraft({ id, source: 'smoke-3', kind: 'repeated_false_alarms', alertId: null }),
    });
    expect(await repo().recordFalseAlarm(falseAlarm('f1', T0), rule('rf-1'))).toBeNull();
    expect(await repo().recordFalseAlarm(falseAlarm('f1', T0), rule('rf-1'))).toBeNull();
    expect(await repo().recordFalseAlarm(falseAlarm('f2', T0 + 70 * MIN), rule('rf-1'))).toBeNull();
    expect(await repo().recordFalseAlarm(falseAlarm('f3', T0 + 80 * MIN), rule('rf-1'))).toBeNull();
    expect(await repo().recordFalseAlarm(falseAlarm('f3', T0 + 80 * MIN), rule('rf-1'))).toBeNull();
    const opened = await repo().recordFalseAlarm(falseAlarm('f4', T0 + 90 * MIN), rule('rf-1'));
    expect(opened).toMatchObject({ id: 'rf-1', kind: 'repeated_false_alarms', source: 'smoke-3' });
    // while it is open, further false alarms belong to it and open nothing
    for (const id of ['f5', 'f6', 'f7']) {
      expect(await repo().recordFalseAlarm(falseAlarm(id, T0 + 95 * MIN), rule(`rf-${id}`))).toBeNull();
    }
    await repo().close('rf-1', { note: '更换探测器', actor: 'u', at: T0 + 100 * MIN });
    // consumed alarms do not count again
    expect(await repo().recordFalseAlarm(falseAlarm('f8', T0 + 101 * MIN), rule('rf-2'))).toBeNull();
    expect(await repo().recordFalseAlarm(falseAlarm('f9', T0 + 102 * MIN), rule('rf-2'))).toBeNull();
    expect(await repo().recordFalseAlarm(falseAlarm('f10', T0 + 103 * MIN), rule('rf-2'))).toMatchObject({
      id: 'rf-2',
    });
    expect((await repo().list({ kinds: ['repeated_false_alarms'] })).map((x) => x.id)).toEqual([
      'rf-2',
      'rf-1',
    ]);
  });

  it('hazards: the log is append-only in the database', async () => {
    const h = (await repo().open(hazardDraft()))!;
    await expect(current().h.exec("UPDATE hazard_log SET note = 'x'")).rejects.toThrow(/append-only/);
    await expect(current().h.exec('DELETE FROM hazard_log')).rejects.toThrow(/append-only/);
    expect(await repo().log(h.id)).toHaveLength(1);
  });

  it('hazards: two instances racing open, escalate and count false alarms once', async () => {
    const other = (await current().h.open()).hazards;
    const both = <T>(f: (r: HazardRepo, side: number) => Promise<T>) =>
      Promise.all([f(repo(), 0), f(other, 1)]);
    for (let i = 0; i < 10; i++) {
      const opened = await both((r, side) =>
        r.open(hazardDraft({ id: `race-${i}-${side}`, source: `panel-${i}`, alertId: null })),
      );
      expect(opened.filter((x) => x !== null)).toHaveLength(1);
      const h = opened.find((x) => x !== null)!;
      await repo().assign(h.id, { responsible: 'x', rectifyBy: T0, actor: 'u', at: T0 });
      const escalated = await both((r) => r.markEscalated(h.id, T0 + 1));
      expect(escalated.filter((x) => x !== null)).toHaveLength(1);
      expect((await other.log(h.id)).filter((e) => e.action === 'overdue')).toHaveLength(1);
      // the 2nd and 3rd false alarm of a source arrive at two instances at once
      const source = `smoke-${i}`;
      const rule = (side: number) => ({
        threshold: 3,
        windowMs: 60 * MIN,
        draft: hazardDraft({ id: `fa-${i}-${side}`, source, kind: 'repeated_false_alarms', alertId: null }),
      });
      await repo().recordFalseAlarm(falseAlarm(`fa-${i}-x`, T0, source), rule(9));
      const rs = await both((r, side) =>
        r.recordFalseAlarm(falseAlarm(`fa-${i}-${side}`, T0 + 1, source), rule(side)),
      );
      expect(rs.filter((x) => x !== null)).toHaveLength(1);
    }
    expect(await repo().list({ kinds: ['repeated_false_alarms'] })).toHaveLength(10);
  });

  it('hazards: a watch that fell due while no service ran opens its hazard at the next start', async () => {
    const clock = new ManualClock(T0);
    const notices: Array<{ event: keyof HazardEvents; id: string }> = [];
    await repo().watch({
      alertId: 'al-cam',
      siteId: 's1',
      source: 'cam-7',
      kind: 'camera_offline',
      title: '7号摄像机离线',
      checkAt: T0 + 2 * 60 * MIN,
    });
    clock.advance(3 * 60 * MIN);
    const svc = new HazardService({
      repo: (await current().h.open()).hazards,
      clock,
      emit: (event, p) => void notices.push({ event, id: p.hazard.id }),
    });
    await svc.start();
    await svc.stop();
    expect(notices.map((x) => x.event)).toEqual(['hazard.opened']);
    expect(await repo().get(notices[0]!.id)).toMatchObject({ alertId: 'al-cam', kind: 'camera_offline' });
    expect(await repo().dueWatches(clock.now(), 10)).toEqual([]);
  });

  it('hazards: two services on one database emit each overdue notice once', async () => {
    const clock = new ManualClock(T0);
    const notices: Array<{ event: keyof HazardEvents; id: string }> = [];
    const service = (r: HazardRepo) =>
      new HazardService({
        repo: r,
        clock,
        emit: (event, p) => void notices.push({ event, id: p.hazard.id }),
      });
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const h = (await repo().open(hazardDraft({ kind: 'coverage_gap' })))!;
      await repo().assign(h.id, { responsible: 'x', rectifyBy: T0 + 60 * MIN, actor: 'u', at: T0 });
      ids.push(h.id);
    }
    const a = service(repo());
    const b = service((await current().h.open()).hazards);
    await Promise.all([a.start(), b.start()]); // both arm a timer for the same deadline
    try {
      clock.advance(60 * MIN);
      await until(() => notices.length >= ids.length);
      await Promise.all([a.idle(), b.idle()]);
      expect(notices.every((x) => x.event === 'hazard.overdue')).toBe(true);
      expect(notices.map((x) => x.id).sort()).toEqual([...ids].sort());
      for (const id of ids) {
        expect((await repo().log(id)).filter((e) => e.action === 'overdue')).toHaveLength(1);
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
}
