import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCIDENT_MIGRATIONS, AccidentService, SqliteAccidentRepo } from '../../../alerts/accidents/index.js';
import { accidentRoutes } from '../../../dashboard/routes/accidents.js';
import { ManualClock } from '../../../lib/clock.js';
import { type Db, migrate, openDatabase } from '../../../storage/sqlite/open.js';
import { call, routeApp, stubSessions } from './route-app.js';

describe('accident routes: scope, roles, bodies', () => {
  let db: Db;
  let app: FastifyInstance;
  let svc: AccidentService;
  const clock = new ManualClock();
  const ids = { a: '', b: '' };

  beforeAll(async () => {
    db = openDatabase(':memory:');
    migrate(db, ACCIDENT_MIGRATIONS, 'accident_migrations');
    svc = new AccidentService({ repo: new SqliteAccidentRepo(db), clock, emit: () => {} });
    await svc.start();
    app = await routeApp((a) => accidentRoutes(a, { sessions: stubSessions, accidents: svc }));
    ids.b = (await svc.classify({ siteId: 'site-b', title: 'B 跌倒', actor: 'user:admin' })).id;
  });
  afterAll(async () => {
    await app.close();
    await svc.stop();
    db.close();
  });

  it('classifies in the own site only, by roles that may resolve', async () => {
    const ok = await call(app, 'head-a', 'POST', '/api/accidents', { siteId: 'site-a', title: '老人跌倒' });
    expect(ok.statusCode).toBe(200);
    const { accident } = ok.json() as { accident: { id: string; state: string; classifiedBy: string } };
    expect(accident).toMatchObject({ state: 'pending_report', classifiedBy: 'user:head-a' });
    ids.a = accident.id;

    const foreign = await call(app, 'head-a', 'POST', '/api/accidents', { siteId: 'site-b', title: 'x' });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    for (const who of ['civil-d1', 'fire-d1'] as const) {
      const r = await call(app, who, 'POST', '/api/accidents', { siteId: 'site-a', title: 'x' });
      expect(r.statusCode, who).toBe(403);
      expect(r.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    }
    expect(
      (await call(app, null, 'POST', '/api/accidents', { siteId: 'site-a', title: 'x' })).statusCode,
    ).toBe(401);
  });

  it('answers bad bodies with 400 naming the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ siteId: 'site-a' }, 'title'],
      [{ siteId: 'site-a', title: '' }, 'title'],
      [{ title: 'x' }, 'siteId'],
      [{ siteId: 'site a/../', title: 'x' }, 'siteId'],
      [{ siteId: 'site-a', title: '   ' }, 'title'],
    ];
    for (const [body, field] of cases) {
      const r = await call(app, 'head-a', 'POST', '/api/accidents', body);
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
      expect((r.json() as { error: { message: string } }).error.message).toContain(field);
    }
    const rep = await call(app, 'head-a', 'POST', `/api/accidents/${ids.a}/reports`, {
      to: 'x',
      channel: 'fax',
    });
    expect(rep.statusCode).toBe(400);
    expect((rep.json() as { error: { message: string } }).error.message).toContain('channel');
    const noTo = await call(app, 'head-a', 'POST', `/api/accidents/${ids.a}/reports`, { channel: 'phone' });
    expect(noTo.statusCode).toBe(400);
    expect((noTo.json() as { error: { message: string } }).error.message).toContain('to');
  });

  it('lists and reads only what is in scope; foreign is answered like missing', async () => {
    const list = async (who: 'admin' | 'head-a' | 'civil-d1', q = '') =>
      (
        (await call(app, who, 'GET', `/api/accidents${q}`)).json() as { accidents: Array<{ id: string }> }
      ).accidents
        .map((a) => a.id)
        .sort();
    expect(await list('admin')).toEqual([ids.a, ids.b].sort());
    expect(await list('head-a')).toEqual([ids.a]);
    expect(await list('civil-d1')).toEqual([ids.a]);
    expect(await list('head-a', '?siteId=site-b')).toEqual([]);
    expect(await list('admin', '?state=reported')).toEqual([]);
    expect((await call(app, 'admin', 'GET', '/api/accidents?state=bogus')).statusCode).toBe(400);

    const foreign = await call(app, 'head-a', 'GET', `/api/accidents/${ids.b}`);
    const missing = await call(app, 'head-a', 'GET', '/api/accidents/nope');
    expect(foreign.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    expect((foreign.json() as { error: { code: string } }).error.code).toBe(
      (missing.json() as { error: { code: string } }).error.code,
    );
    const mine = await call(app, 'civil-d1', 'GET', `/api/accidents/${ids.a}`);
    expect(mine.statusCode).toBe(200);
    expect(mine.json()).toMatchObject({ accident: { id: ids.a }, reports: [], remainingS: 3600 });
  });

  it('reports in scope by roles that may resolve; the detail shows the reports', async () => {
    const body = { to: '区民政局值班室', channel: 'phone', note: '电话报告' };
    expect((await call(app, 'head-a', 'POST', `/api/accidents/${ids.b}/reports`, body)).statusCode).toBe(404);
    expect((await call(app, 'civil-d1', 'POST', `/api/accidents/${ids.a}/reports`, body)).statusCode).toBe(
      403,
    );
    clock.advance(20 * 60_000);
    const ok = await call(app, 'staff-a', 'POST', `/api/accidents/${ids.a}/reports`, body);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({
      accident: { state: 'reported', reportedLate: false },
      report: { by: 'user:staff-a', toWhom: '区民政局值班室', channel: 'phone', late: false },
    });
    const detail = await call(app, 'head-a', 'GET', `/api/accidents/${ids.a}`);
    expect(detail.json()).toMatchObject({ remainingS: null, reports: [{ note: '电话报告' }] });
  });
});
