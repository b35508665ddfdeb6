import { expect, it } from 'vitest';
import { type AccidentEvents, AccidentService } from '../../../alerts/accidents/index.js';
import type { Accident, AccidentReport } from '../../../alerts/accidents/types.js';
import { ManualClock } from '../../../lib/clock.js';
import { MIN, type SafetyCurrent, T0, until } from './harness.js';

let n = 0;
export function accident(p: Partial<Accident> = {}): Accident {
  n++;
  const classifiedAt = p.classifiedAt ?? T0 + n;
  return {
    id: `acc-${n}`,
    siteId: 's1',
    alertId: null,
    title: `accident ${n}`,
    classifiedAt,
    classifiedBy: 'user:head',
    deadlineAt: classifiedAt + 60 * MIN,
    state: 'pending_report',
    reportedAt: null,
    reportedLate: false,
    warnedAt: null,
    overdueAt: null,
    ...p,
  };
}

const report = (accidentId: string, p: Partial<AccidentReport> = {}): AccidentReport => ({
  accidentId,
  at: T0 + 10 * MIN,
  by: 'user:head',
  toWhom: '区民政局值班室',
  channel: 'phone',
  note: null,
  late: false,
  ...p,
});

/** The AccidentRepo contract (alerts/accidents/types.ts). */
export function accidentContract(current: () => SafetyCurrent): void {
  const repo = () => current().store.accidents;

  it('accidents: inserts, reads back and lists newest first with filters', async () => {
    const a = accident({ siteId: 's1', alertId: 'al-1', classifiedAt: T0 });
    const b = accident({ siteId: 's2', classifiedAt: T0 + MIN });
    const c = accident({ siteId: 's1', classifiedAt: T0 + 2 * MIN, state: 'overdue', overdueAt: T0 });
    for (const x of [a, b, c]) await repo().insert(x);
    expect(await repo().get(a.id)).toEqual(a);
    expect(await repo().byAlert('al-1')).toEqual(a);
    expect(await repo().byAlert('al-none')).toBeNull();
    expect(await repo().get('nope')).toBeNull();
    const ids = async (f: Parameters<ReturnType<typeof repo>['list']>[0]) =>
      (await repo().list(f)).map((x) => x.id);
    expect(await ids({})).toEqual([c.id, b.id, a.id]);
    expect(await ids({ siteIds: ['s1'] })).toEqual([c.id, a.id]);
    expect(await ids({ siteIds: [] })).toEqual([]);
    expect(await ids({ states: ['overdue'] })).toEqual([c.id]);
    expect(await ids({ states: [] })).toEqual([]);
    expect(await ids({ since: T0 + MIN, until: T0 + 2 * MIN })).toEqual([b.id]);
    expect(await ids({ limit: 1 })).toEqual([c.id]);
  });

  it('accidents: one accident per alert (ACCIDENT_EXISTS), any number without one', async () => {
    await repo().insert(accident({ alertId: 'al-9' }));
    await expect(repo().insert(accident({ alertId: 'al-9' }))).rejects.toMatchObject({
      code: 'ACCIDENT_EXISTS',
    });
    await repo().insert(accident());
    await repo().insert(accident());
    expect(await repo().list({})).toHaveLength(3);
  });

  it('accidents: the first report moves the state, later ones are appended to the log only', async () => {
    const a = accident();
    await repo().insert(a);
    const first = await repo().addReport(report(a.id, { at: T0 + 5 * MIN, note: '电话报告' }));
    expect(first).toMatchObject({ state: 'reported', reportedAt: T0 + 5 * MIN, reportedLate: false });
    const second = await repo().addReport(report(a.id, { at: T0 + 9 * MIN, channel: 'written' }));
    expect(second).toMatchObject({ state: 'reported', reportedAt: T0 + 5 * MIN });
    const log = await repo().reports(a.id);
    expect(log.map((r) => [r.at, r.channel, r.note])).toEqual([
      [T0 + 5 * MIN, 'phone', '电话报告'],
      [T0 + 9 * MIN, 'written', null],
    ]);
    expect(log[0]).toEqual(report(a.id, { at: T0 + 5 * MIN, note: '电话报告' }));
    expect(await repo().addReport(report('nope'))).toBeNull();
    expect(await repo().reports('nope')).toEqual([]);
  });

  it('accidents: a late report ends the overdue state and is marked late', async () => {
    const a = accident({ classifiedAt: T0 });
    await repo().insert(a);
    expect(await repo().markOverdue(a.id, a.deadlineAt)).toMatchObject({ state: 'overdue' });
    const r = await repo().addReport(report(a.id, { at: a.deadlineAt + MIN, late: true }));
    expect(r).toMatchObject({ state: 'reported', reportedLate: true, overdueAt: a.deadlineAt });
    expect((await repo().reports(a.id))[0]?.late).toBe(true);
  });

  it('accidents: due and nextDueAt follow the warning, then the deadline, and stop once reported', async () => {
    const warn = 15 * MIN;
    const a = accident({ classifiedAt: T0 });
    const b = accident({ classifiedAt: T0 + 30 * MIN });
    await repo().insert(a);
    await repo().insert(b);
    expect(await repo().nextDueAt(warn)).toBe(a.deadlineAt - warn);
    expect(await repo().due(a.deadlineAt - warn - 1, warn, 10)).toEqual([]);
    expect((await repo().due(a.deadlineAt - warn, warn, 10)).map((x) => x.id)).toEqual([a.id]);
    expect(await repo().markWarned(a.id, a.deadlineAt - warn)).toMatchObject({
      warnedAt: a.deadlineAt - warn,
    });
    expect(await repo().markWarned(a.id, a.deadlineAt - warn + 1)).toBeNull();
    expect(await repo().due(a.deadlineAt - 1, warn, 10)).toEqual([]);
    expect(await repo().nextDueAt(warn)).toBe(a.deadlineAt);
    expect((await repo().due(b.deadlineAt, warn, 10)).map((x) => x.id)).toEqual([a.id, b.id]);
    expect((await repo().due(b.deadlineAt, warn, 1)).map((x) => x.id)).toEqual([a.id]);
    expect(await repo().markOverdue(a.id, a.deadlineAt)).toMatchObject({ overdueAt: a.deadlineAt });
    expect(await repo().markOverdue(a.id, a.deadlineAt + 1)).toBeNull();
    expect(await repo().markWarned(a.id, a.deadlineAt + 1)).toBeNull();
    await repo().addReport(report(b.id));
    expect(await repo().nextDueAt(warn)).toBeNull();
    expect(await repo().due(b.deadlineAt + MIN, warn, 10)).toEqual([]);
  });

  it('accidents: the report log is append-only in the database', async () => {
    const a = accident();
    await repo().insert(a);
    await repo().addReport(report(a.id));
    await expect(current().h.exec("UPDATE accident_reports SET note = 'x'")).rejects.toThrow(/append-only/);
    await expect(current().h.exec('DELETE FROM accident_reports')).rejects.toThrow(/append-only/);
    expect(await repo().reports(a.id)).toHaveLength(1);
  });

  it('accidents: two instances racing on the same compare-and-sets apply each once', async () => {
    const other = await current().h.open();
    const as = Array.from({ length: 20 }, () => accident({ classifiedAt: T0 }));
    for (const a of as) await repo().insert(a);
    const at = as[0]!.deadlineAt;
    const race = async (f: (r: typeof other.accidents, a: Accident) => Promise<Accident | null>) => {
      const rs = await Promise.all(as.flatMap((a) => [f(repo(), a), f(other.accidents, a)]));
      return rs.filter((r) => r !== null).length;
    };
    expect(await race((r, a) => r.markWarned(a.id, at - MIN))).toBe(20);
    expect(await race((r, a) => r.markOverdue(a.id, at))).toBe(20);
    // concurrent first reports: both are logged, one of them is "the first"
    const reported = await Promise.all(
      as.flatMap((a) => [
        repo().addReport(report(a.id, { at: at + 1, by: 'user:a', late: true })),
        other.accidents.addReport(report(a.id, { at: at + 2, by: 'user:b', late: true })),
      ]),
    );
    expect(reported.every((r) => r?.state === 'reported')).toBe(true);
    for (const a of as) {
      const got = await other.accidents.get(a.id);
      const log = await repo().reports(a.id);
      expect(log.map((r) => r.by).sort()).toEqual(['user:a', 'user:b']);
      expect(got?.reportedAt).toBe(log[0]!.at);
    }
  });

  it('accidents: a service started after a restart catches up: overdue only, once', async () => {
    const clock = new ManualClock(T0);
    const notices: Array<{ event: keyof AccidentEvents; id: string }> = [];
    const service = (store: SafetyCurrent['store']) =>
      new AccidentService({
        repo: store.accidents,
        clock,
        emit: (event, p) => void notices.push({ event, id: p.accident.id }),
      });
    const before = service(current().store);
    await before.start();
    const a = await before.classify({ siteId: 's1', title: '走失', actor: 'u' });
    await before.stop(); // down before the warning and the deadline
    clock.advance(2 * 60 * MIN);
    const after = service(await current().h.open());
    await after.start();
    await after.tick();
    await after.stop();
    expect(notices.map((x) => x.event)).toEqual(['accident.classified', 'accident.overdue']);
    expect(await current().store.accidents.get(a.id)).toMatchObject({
      state: 'overdue',
      warnedAt: null,
      overdueAt: T0 + 2 * 60 * MIN,
    });
  });

  it('accidents: two services on one database warn once and mark overdue once per accident', async () => {
    const clock = new ManualClock(T0);
    const notices: Array<{ event: keyof AccidentEvents; id: string; by: string }> = [];
    const service = (store: SafetyCurrent['store'], by: string) =>
      new AccidentService({
        repo: store.accidents,
        clock,
        emit: (event, p) => void notices.push({ event, id: p.accident.id, by }),
      });
    const a = service(current().store, 'a');
    const b = service(await current().h.open(), 'b');
    await a.start();
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await a.classify({ siteId: 's1', title: `t${i}`, actor: 'u' })).id);
    await b.start(); // arms its own timer for the same warning time
    const count = (event: keyof AccidentEvents) => notices.filter((x) => x.event === event).length;
    try {
      clock.advance(45 * MIN); // both timers fire: the two watchers race
      await until(() => count('accident.deadline_near') >= ids.length);
      clock.advance(15 * MIN);
      await until(() => count('accident.overdue') >= ids.length);
      await Promise.all([a.tick(), b.tick()]);
      for (const event of ['accident.deadline_near', 'accident.overdue'] as const) {
        const seen = notices.filter((x) => x.event === event).map((x) => x.id);
        expect(seen.sort()).toEqual([...ids].sort());
      }
      const stored = await current().store.accidents.list({});
      expect(stored.every((x) => x.state === 'overdue' && x.warnedAt === T0 + 45 * MIN)).toBe(true);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
}
