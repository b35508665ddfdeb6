import { afterEach, describe, expect, it } from 'vitest';
import { HAZARD_CSV_COLUMNS, type HazardService, hazardsCsv } from '../../../alerts/hazards/index.js';
import { ManualClock } from '../../../lib/clock.js';
import { tempDir } from '../../helpers/procs.js';
import { alertOf, FakeAlerts, hazardHarness, type Notice } from './fixtures.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const settle = () => new Promise((r) => setTimeout(r, 20));

describe('hazard ledger', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c();
  });
  const file = () => {
    const d = tempDir('cw-hazards-');
    cleanups.push(d.cleanup);
    return `${d.path}/central.db`;
  };
  const open = async (...args: Parameters<typeof hazardHarness>) => {
    const h = hazardHarness(...args);
    cleanups.push(() => h.db.close());
    await h.svc.start();
    return h;
  };
  const step = async (svc: HazardService, clock: ManualClock, ms: number) => {
    clock.advance(ms);
    await settle();
    await svc.idle();
  };
  const opened = (n: Notice[]) => n.filter((x) => x.event === 'hazard.opened');

  it('opens a panel trouble hazard after 24 h unresolved and a camera offline one after 2 h, not before', async () => {
    const clock = new ManualClock();
    const notices: Notice[] = [];
    const alerts = new FakeAlerts();
    const { svc } = await open(file(), clock, notices, alerts);
    const panel = alerts.put(alertOf({ type: 'panel_trouble', source: 'panel:3F', openedAt: clock.now() }));
    const camera = alerts.put(alertOf({ type: 'camera_offline', source: 'cam-7', openedAt: clock.now() }));
    await svc.observeAlert({ alert: panel, change: 'opened' });
    await svc.observeAlert({ alert: camera, change: 'opened' });

    await step(svc, clock, 2 * HOUR - 1);
    expect(opened(notices)).toHaveLength(0);
    await step(svc, clock, 1);
    expect(opened(notices).map((x) => x.kind)).toEqual(['camera_offline']);
    await svc.observeAlert({ alert: { ...camera, count: 2 }, change: 'repeated' });
    await step(svc, clock, 21 * HOUR);
    expect(opened(notices)).toHaveLength(1); // once per alert
    await step(svc, clock, 1 * HOUR);
    expect(opened(notices).map((x) => x.kind)).toEqual(['camera_offline', 'panel_trouble']);
    const [p] = await svc.list({ kinds: ['panel_trouble'] });
    expect(p).toMatchObject({ siteId: 's1', source: 'panel:3F', state: 'open', alertId: panel.id });
    expect((await svc.get(p!.id))!.log.map((e) => e.action)).toEqual(['opened']);
    await svc.stop();
  });

  it('does not open one for an alert resolved before the threshold', async () => {
    const clock = new ManualClock();
    const notices: Notice[] = [];
    const alerts = new FakeAlerts();
    const { svc } = await open(file(), clock, notices, alerts);
    const camera = alerts.put(alertOf({ type: 'camera_offline', openedAt: clock.now() }));
    await svc.observeAlert({ alert: camera, change: 'opened' });
    await step(svc, clock, HOUR);
    const resolved = alerts.put({ ...camera, state: 'resolved', resolvedAt: clock.now() });
    await svc.observeAlert({ alert: resolved, change: 'resolved' });
    // a drill never counts either
    await svc.observeAlert({
      alert: alertOf({ type: 'camera_offline', drill: true, openedAt: 0 }),
      change: 'opened',
    });
    await step(svc, clock, 3 * HOUR);
    expect(notices).toEqual([]);
    expect(await svc.list({})).toEqual([]);
    await svc.stop();
  });

  it('keeps the check across a restart (fires at start when due) and catches up on alerts never observed', async () => {
    const path = file();
    const clock = new ManualClock();
    const notices: Notice[] = [];
    const alerts = new FakeAlerts();
    const first = await open(path, clock, notices, alerts);
    const camera = alerts.put(alertOf({ type: 'camera_offline', openedAt: clock.now() }));
    await first.svc.observeAlert({ alert: camera, change: 'opened' });
    await first.svc.stop();
    first.db.close();
    // opened while the hazard service was down: only the alert store knows
    const unseen = alerts.put(alertOf({ type: 'panel_trouble', openedAt: clock.now() }));

    clock.advance(3 * HOUR);
    const second = await open(path, clock, notices, alerts);
    await second.svc.idle();
    expect(opened(notices).map((x) => x.kind)).toEqual(['camera_offline']);
    await step(second.svc, clock, 21 * HOUR);
    expect(opened(notices).map((x) => x.kind)).toEqual(['camera_offline', 'panel_trouble']);
    expect((await second.svc.list({ kinds: ['panel_trouble'] }))[0]!.alertId).toBe(unseen.id);
    await second.svc.stop();
    second.db.close();

    const third = await open(path, clock, notices, alerts); // nothing new on another restart
    await step(third.svc, clock, DAY);
    expect(opened(notices)).toHaveLength(2);
    await third.svc.stop();
  });

  it('opens a coverage gap at once, once per alert, also after it was closed', async () => {
    const clock = new ManualClock();
    const notices: Notice[] = [];
    const { svc } = await open(file(), clock, notices);
    const gap = alertOf({ type: 'coverage_gap', source: 'zone:canteen', openedAt: clock.now() });
    await svc.observeAlert({ alert: gap, change: 'opened' });
    expect(opened(notices).map((x) => x.kind)).toEqual(['coverage_gap']);
    await svc.observeAlert({ alert: gap, change: 'repeated' });
    const [h] = await svc.list({});
    await svc.close(h!.id, { note: '食堂补装摄像机', actor: 'user:head' });
    await svc.observeAlert({ alert: gap, change: 'repeated' });
    expect(opened(notices)).toHaveLength(1);
    // a new gap alert of the same zone after the fix is a new entry
    await svc.observeAlert({ alert: { ...gap, id: 'al-gap-2' }, change: 'opened' });
    expect(opened(notices)).toHaveLength(2);
    await svc.stop();
  });

  it('opens repeated_false_alarms after 3 false fire alarms of one source within 7 days', async () => {
    const clock = new ManualClock();
    const notices: Notice[] = [];
    const alerts = new FakeAlerts();
    const { svc } = await open(file(), clock, notices, alerts);
    const falseAlarm = async (source: string, note: string | null, viaAudit = false) => {
      const a = alertOf({
        type: 'fire_alarm',
        source,
        state: 'resolved',
        openedAt: clock.now(),
        resolvedAt: clock.now(),
      });
      if (viaAudit && note !== null) alerts.notes.set(a.id, note);
      await svc.observeAlert({ alert: a, change: 'resolved', ...(viaAudit ? {} : { note }) });
      return a;
    };
    await falseAlarm('panel:2F-smoke-12', '误报: 厨房油烟');
    await step(svc, clock, 2 * DAY);
    await falseAlarm('panel:2F-smoke-12', 'real fire, extinguished'); // not false
    const replay = await falseAlarm('panel:2F-smoke-12', 'False alarm (steam)');
    await svc.observeAlert({ alert: replay, change: 'resolved', note: 'False alarm (steam)' }); // replayed notice
    await falseAlarm('panel:1F-smoke-1', '误报'); // another source
    expect(opened(notices)).toHaveLength(0);
    await step(svc, clock, 4 * DAY);
    await falseAlarm('panel:2F-smoke-12', '确认误报', true); // note from the audit trail
    expect(opened(notices).map((x) => x.kind)).toEqual(['repeated_false_alarms']);
    const [h] = await svc.list({ kinds: ['repeated_false_alarms'] });
    expect(h).toMatchObject({ source: 'panel:2F-smoke-12', alertId: null, state: 'open' });

    // a fourth while it is open belongs to it; after closing, counting starts afresh
    await falseAlarm('panel:2F-smoke-12', '误报');
    await svc.close(h!.id, { note: '更换为感温探测器', actor: 'user:head' });
    await falseAlarm('panel:2F-smoke-12', '误报');
    await falseAlarm('panel:2F-smoke-12', '误报');
    expect(opened(notices)).toHaveLength(1);
    // spread over more than 7 days: none
    await step(svc, clock, 8 * DAY);
    await falseAlarm('panel:1F-smoke-1', '误报');
    expect(opened(notices)).toHaveLength(1);
    await svc.stop();
  });

  it('refuses to close without a note; closes once; assign and close of a closed entry are refused', async () => {
    const clock = new ManualClock();
    const { svc } = await open(file(), clock, []);
    await svc.observeAlert({ alert: alertOf({ type: 'coverage_gap', openedAt: 0 }), change: 'opened' });
    const [h] = await svc.list({});
    for (const note of ['', '   ']) {
      await expect(svc.close(h!.id, { note, actor: 'user:head' })).rejects.toMatchObject({
        code: 'HAZARD_NOTE_REQUIRED',
        message: expect.stringContaining('note'),
      });
    }
    expect((await svc.get(h!.id))!.hazard.state).toBe('open');
    await expect(svc.assign(h!.id, { responsible: ' ', rectifyBy: 1, actor: 'u' })).rejects.toMatchObject({
      code: 'HAZARD_INVALID',
    });
    const assigned = await svc.assign(h!.id, {
      responsible: '张三',
      rectifyBy: clock.now() + DAY,
      actor: 'u',
    });
    expect(assigned).toMatchObject({ state: 'rectifying', responsible: '张三' });
    const closed = await svc.close(h!.id, { note: ' 已整改 ', actor: 'user:head' });
    expect(closed).toMatchObject({ state: 'closed', closeNote: '已整改', closedBy: 'user:head' });
    await expect(svc.close(h!.id, { note: 'again', actor: 'u' })).rejects.toMatchObject({
      code: 'HAZARD_CLOSED',
    });
    await expect(svc.assign(h!.id, { responsible: 'x', rectifyBy: 1, actor: 'u' })).rejects.toMatchObject({
      code: 'HAZARD_CLOSED',
    });
    await expect(svc.close('nope', { note: 'x', actor: 'u' })).rejects.toMatchObject({
      code: 'HAZARD_NOT_FOUND',
    });
    expect((await svc.get(h!.id))!.log.map((e) => e.action)).toEqual(['opened', 'assigned', 'closed']);
    await svc.stop();
  });

  it('emits hazard.overdue once per deadline, also across a restart; a closed entry is never overdue', async () => {
    const path = file();
    const clock = new ManualClock();
    const notices: Notice[] = [];
    const first = await open(path, clock, notices);
    for (let i = 0; i < 2; i++)
      await first.svc.observeAlert({
        alert: alertOf({ type: 'coverage_gap', openedAt: 0 }),
        change: 'opened',
      });
    const [a, b] = await first.svc.list({});
    await first.svc.assign(a!.id, { responsible: '张三', rectifyBy: clock.now() + DAY, actor: 'u' });
    await first.svc.assign(b!.id, { responsible: '李四', rectifyBy: clock.now() + DAY, actor: 'u' });
    await first.svc.close(b!.id, { note: '已整改', actor: 'u' });
    const overdue = () => notices.filter((x) => x.event === 'hazard.overdue').map((x) => x.id);

    await step(first.svc, clock, DAY - 1);
    expect(overdue()).toEqual([]);
    await step(first.svc, clock, 1);
    expect(overdue()).toEqual([a!.id]);
    await step(first.svc, clock, DAY);
    await first.svc.stop();
    first.db.close();
    const second = await open(path, clock, notices);
    await step(second.svc, clock, DAY);
    expect(overdue()).toEqual([a!.id]);
    expect((await second.svc.get(a!.id))!.log.filter((e) => e.action === 'overdue')).toHaveLength(1);
    // a new deadline may become overdue once more
    await second.svc.assign(a!.id, { responsible: '张三', rectifyBy: clock.now() + HOUR, actor: 'u' });
    await step(second.svc, clock, 2 * HOUR);
    expect(overdue()).toEqual([a!.id, a!.id]);
    await second.svc.stop();
  });

  it('two instances on one file emit hazard.overdue once (compare-and-set)', async () => {
    const path = file();
    const clock = new ManualClock();
    const notices: Notice[] = [];
    const one = await open(path, clock, notices);
    const two = await open(path, clock, notices);
    await one.svc.observeAlert({ alert: alertOf({ type: 'coverage_gap', openedAt: 0 }), change: 'opened' });
    const [a] = await one.svc.list({});
    await one.svc.assign(a!.id, { responsible: '张三', rectifyBy: clock.now() + HOUR, actor: 'u' });
    await two.svc.stop(); // the second instance learns of the deadline on its next start
    await two.svc.start();
    clock.advance(HOUR);
    await settle();
    await Promise.all([one.svc.idle(), two.svc.idle()]);
    expect(notices.filter((x) => x.event === 'hazard.overdue')).toHaveLength(1);
    await one.svc.stop();
    await two.svc.stop();
  });

  it('exports the three lists as CSV with a BOM, Chinese labels and defused formulas', () => {
    const base = alertOf({ type: 'coverage_gap', openedAt: Date.UTC(2026, 0, 1, 0, 0) });
    const hazard = {
      id: 'h1',
      siteId: 's1',
      source: 'zone:canteen',
      kind: 'coverage_gap' as const,
      title: '=HYPERLINK("x"),食堂',
      openedAt: base.openedAt,
      alertId: base.id,
      responsible: '张三',
      rectifyBy: Date.UTC(2026, 0, 2, 10, 0),
      state: 'rectifying' as const,
      closedAt: null,
      closedBy: null,
      closeNote: null,
      escalatedAt: null,
    };
    const csv = hazardsCsv([hazard], { now: Date.UTC(2026, 0, 3), siteName: () => '阳光养老院' });
    expect(csv.startsWith('\uFEFF')).toBe(true);
    const [header, row] = csv.slice(1).split('\r\n');
    expect(header).toBe(HAZARD_CSV_COLUMNS.join(','));
    expect(row).toBe(
      `h1,阳光养老院,zone:canteen,监控覆盖缺口,"'=HYPERLINK(""x""),食堂",2026-01-01 08:00,整改中,2026-01-02 18:00,是,,,张三,`,
    );
  });
});
