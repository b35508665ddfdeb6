import { afterEach, describe, expect, it } from 'vitest';
import {
  ACCIDENT_MIGRATIONS,
  type AccidentConfig,
  type AccidentEvents,
  AccidentService,
  emitOnBus,
  SqliteAccidentRepo,
} from '../../../alerts/accidents/index.js';
import { ManualClock } from '../../../lib/clock.js';
import { EventBus } from '../../../lib/event-bus.js';
import { migrate, openDatabase } from '../../../storage/sqlite/open.js';
import type { Alert } from '../../../storage/types.js';
import { tempDir } from '../../helpers/procs.js';

const MIN = 60_000;
/** Lets the watcher's store calls settle after the clock moved. */
const settle = () => new Promise((r) => setTimeout(r, 20));

type Notice = { event: keyof AccidentEvents; id: string; remainingS: number };

function harness(
  path: string,
  clock: ManualClock,
  notices: Notice[],
  opts: { config?: Partial<AccidentConfig>; alerts?: Map<string, Pick<Alert, 'siteId'>> } = {},
) {
  const db = openDatabase(path);
  migrate(db, ACCIDENT_MIGRATIONS, 'accident_migrations');
  const alerts = opts.alerts;
  const svc = new AccidentService({
    repo: new SqliteAccidentRepo(db),
    clock,
    config: opts.config,
    emit: (event, p) => void notices.push({ event, id: p.accident.id, remainingS: p.remainingS }),
    alerts: alerts && { get: async (id: string) => (alerts.get(id) as Alert | undefined) ?? null },
  });
  return { db, svc };
}

describe('accidents: the 1-hour reporting duty', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c();
  });
  const file = () => {
    const d = tempDir('cw-accidents-');
    cleanups.push(d.cleanup);
    return `${d.path}/central.db`;
  };
  const open = async (path: string, clock: ManualClock, notices: Notice[], opts = {}) => {
    const h = harness(path, clock, notices, opts);
    cleanups.push(() => h.db.close());
    await h.svc.start();
    return h;
  };
  const only = (n: Notice[], event: Notice['event']) => n.filter((x) => x.event === event);

  it('warns once 15 min before the deadline and marks overdue once at the deadline', async () => {
    const clock = new ManualClock();
    const notices: Notice[] = [];
    const { svc } = await open(file(), clock, notices);
    const a = await svc.classify({ siteId: 's1', title: '老人跌倒骨折', actor: 'user:head' });
    expect(a.deadlineAt).toBe(a.classifiedAt + 60 * MIN);
    expect(only(notices, 'accident.classified')).toHaveLength(1);

    clock.advance(44 * MIN);
    await settle();
    expect(only(notices, 'accident.deadline_near')).toHaveLength(0);
    clock.advance(MIN); // T - 15 min
    await settle();
    expect(only(notices, 'accident.deadline_near')).toEqual([
      { event: 'accident.deadline_near', id: a.id, remainingS: 900 },
    ]);
    clock.advance(14 * MIN);
    await settle();
    expect(only(notices, 'accident.deadline_near')).toHaveLength(1);
    expect(only(notices, 'accident.overdue')).toHaveLength(0);
    clock.advance(MIN); // T
    await settle();
    expect(only(notices, 'accident.overdue')).toEqual([
      { event: 'accident.overdue', id: a.id, remainingS: 0 },
    ]);
    clock.advance(120 * MIN);
    await settle();
    expect(only(notices, 'accident.deadline_near')).toHaveLength(1);
    expect(only(notices, 'accident.overdue')).toHaveLength(1);
    const detail = (await svc.get(a.id))!;
    expect(detail.accident.state).toBe('overdue');
    expect(detail.remainingS).toBe(-7200);
    await svc.stop();
  });

  it('a restart between the warning and the deadline neither repeats nor misses a notice', async () => {
    const path = file();
    const clock = new ManualClock();
    const notices: Notice[] = [];
    const first = await open(path, clock, notices);
    const a = await first.svc.classify({ siteId: 's1', title: '烫伤', actor: 'user:head' });
    clock.advance(46 * MIN);
    await settle();
    expect(only(notices, 'accident.deadline_near')).toHaveLength(1);
    await first.svc.stop();
    first.db.close(); // the process is gone; only the file remains

    clock.advance(10 * MIN);
    const second = await open(path, clock, notices);
    await settle();
    expect(only(notices, 'accident.deadline_near')).toHaveLength(1); // not repeated
    clock.advance(4 * MIN);
    await settle();
    expect(only(notices, 'accident.overdue')).toEqual([
      { event: 'accident.overdue', id: a.id, remainingS: 0 },
    ]);
    await second.svc.stop();
  });

  it('catches up at start: a warning due while down fires at once; a deadline passed while down only marks overdue', async () => {
    const path = file();
    const clock = new ManualClock();
    const notices: Notice[] = [];
    const first = await open(path, clock, notices);
    const soon = await first.svc.classify({ siteId: 's1', title: 'A', actor: 'user:head' });
    clock.advance(30 * MIN);
    const later = await first.svc.classify({ siteId: 's1', title: 'B', actor: 'user:head' });
    await first.svc.stop();
    first.db.close();

    clock.advance(46 * MIN); // soon: past its deadline; later: inside its warning window
    const second = await open(path, clock, notices);
    await settle();
    expect(only(notices, 'accident.overdue').map((n) => n.id)).toEqual([soon.id]);
    expect(only(notices, 'accident.deadline_near').map((n) => n.id)).toEqual([later.id]);
    clock.advance(14 * MIN);
    await settle();
    expect(only(notices, 'accident.overdue').map((n) => n.id)).toEqual([soon.id, later.id]);
    expect(only(notices, 'accident.deadline_near')).toHaveLength(1);
    await second.svc.stop();
  });

  it('two instances on one file notify each step once (compare-and-set)', async () => {
    const path = file();
    const clock = new ManualClock();
    const notices: Notice[] = [];
    const one = await open(path, clock, notices);
    const two = await open(path, clock, notices);
    await one.svc.classify({ siteId: 's1', title: 'A', actor: 'user:head' });
    await two.svc.tick(); // the second instance learns about it on its next pass
    clock.advance(45 * MIN);
    await settle();
    clock.advance(15 * MIN);
    await settle();
    expect(only(notices, 'accident.deadline_near')).toHaveLength(1);
    expect(only(notices, 'accident.overdue')).toHaveLength(1);
    await one.svc.stop();
    await two.svc.stop();
  });

  it('records a report on time, a late report as late, and follow-ups without changing the first', async () => {
    const clock = new ManualClock();
    const notices: Notice[] = [];
    const { svc, db } = await open(file(), clock, notices);
    const onTime = await svc.classify({ siteId: 's1', title: 'A', actor: 'user:head' });
    clock.advance(30 * MIN);
    const r1 = await svc.report(onTime.id, { to: '区民政局值班室', channel: 'phone', actor: 'user:head' });
    expect(r1.report.late).toBe(false);
    expect(r1.accident).toMatchObject({ state: 'reported', reportedAt: clock.now(), reportedLate: false });
    const late = await svc.classify({ siteId: 's1', title: 'B', actor: 'user:head' });
    clock.advance(61 * MIN);
    await settle();
    expect(only(notices, 'accident.overdue').map((n) => n.id)).toEqual([late.id]); // not the reported one
    const r2 = await svc.report(late.id, {
      to: '区应急管理局',
      channel: 'written',
      note: ' 书面报告 ',
      actor: 'user:staff',
    });
    expect(r2.report).toMatchObject({ late: true, note: '书面报告', channel: 'written' });
    expect(r2.accident).toMatchObject({ state: 'reported', reportedLate: true });
    clock.advance(MIN);
    const follow = await svc.report(onTime.id, { to: '区民政局', channel: 'online', actor: 'user:head' });
    expect(follow.accident.reportedAt).toBe(r1.accident.reportedAt);
    expect(follow.report.late).toBe(true);
    const detail = (await svc.get(onTime.id))!;
    expect(detail.reports.map((r) => r.channel)).toEqual(['phone', 'online']);
    expect(detail.remainingS).toBeNull();
    expect(only(notices, 'accident.reported')).toHaveLength(3);
    expect(() => db.prepare('DELETE FROM accident_reports').run()).toThrow(/append-only/);
    expect(() => db.prepare("UPDATE accident_reports SET note = 'x'").run()).toThrow(/append-only/);
    await svc.stop();
  });

  it('forwards notices to an event bus with emitOnBus', async () => {
    const bus = new EventBus<AccidentEvents>();
    const seen: string[] = [];
    bus.on('accident.classified', (n) => void seen.push(n.accident.title));
    const db = openDatabase(':memory:');
    cleanups.push(() => db.close());
    migrate(db, ACCIDENT_MIGRATIONS, 'accident_migrations');
    const svc = new AccidentService({
      repo: new SqliteAccidentRepo(db),
      clock: new ManualClock(),
      emit: emitOnBus(bus),
    });
    await svc.classify({ siteId: 's1', title: '走失', actor: 'u' });
    expect(seen).toEqual(['走失']);
  });

  it('validates input with coded errors and keeps one accident per alert', async () => {
    const clock = new ManualClock();
    const alerts = new Map([['al-1', { siteId: 's1' }]]);
    const { svc } = await open(file(), clock, [], { config: { reportWithinS: 1800 }, alerts });
    await expect(svc.classify({ siteId: 's1', title: '  ', actor: 'u' })).rejects.toMatchObject({
      code: 'ACCIDENT_INVALID',
      message: expect.stringContaining('title'),
    });
    await expect(
      svc.classify({ siteId: 's2', alertId: 'al-1', title: 'x', actor: 'u' }),
    ).rejects.toMatchObject({
      code: 'ACCIDENT_INVALID',
      message: expect.stringContaining('alertId'),
    });
    const a = await svc.classify({ siteId: 's1', alertId: 'al-1', title: 'x', actor: 'u' });
    expect(a.deadlineAt - a.classifiedAt).toBe(30 * MIN);
    await expect(
      svc.classify({ siteId: 's1', alertId: 'al-1', title: 'y', actor: 'u' }),
    ).rejects.toMatchObject({
      code: 'ACCIDENT_EXISTS',
    });
    await expect(svc.report(a.id, { to: 'x', channel: 'fax' as 'phone', actor: 'u' })).rejects.toMatchObject({
      code: 'ACCIDENT_INVALID',
      message: expect.stringContaining('channel'),
    });
    await expect(svc.report('nope', { to: 'x', channel: 'phone', actor: 'u' })).rejects.toMatchObject({
      code: 'ACCIDENT_NOT_FOUND',
    });
    expect(await svc.get('nope')).toBeNull();
    expect((await svc.list({ siteIds: ['s1'] })).map((x) => x.id)).toEqual([a.id]);
    expect(await svc.list({ siteIds: ['s2'] })).toEqual([]);
    expect(await svc.list({ states: ['reported'] })).toEqual([]);
    await svc.stop();
  });
});
