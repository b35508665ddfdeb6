import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HazardService } from '../../../alerts/hazards/index.js';
import { hazardRoutes } from '../../../dashboard/routes/hazards.js';
import { ManualClock } from '../../../lib/clock.js';
import type { Db } from '../../../storage/sqlite/open.js';
import { call, routeApp, stubSessions } from '../accidents/route-app.js';
import { alertOf, hazardHarness } from './fixtures.js';

type H = { id: string; siteId: string; state: string };
type Err = { error: { code: string; message: string } };

describe('hazard routes: scope, roles, bodies, CSV', () => {
  let db: Db;
  let app: FastifyInstance;
  let svc: HazardService;
  const clock = new ManualClock();
  const ids = { a: '', b: '' };

  beforeAll(async () => {
    const h = hazardHarness(':memory:', clock, []);
    db = h.db;
    svc = h.svc;
    await svc.start();
    for (const siteId of ['site-a', 'site-b']) {
      const alert = alertOf({ type: 'coverage_gap', siteId, source: 'zone:食堂', openedAt: clock.now() });
      await svc.observeAlert({ alert, change: 'opened' });
    }
    const all = await svc.list({});
    ids.a = all.find((x) => x.siteId === 'site-a')!.id;
    ids.b = all.find((x) => x.siteId === 'site-b')!.id;
    app = await routeApp((a) => hazardRoutes(a, { sessions: stubSessions, hazards: svc }));
  });
  afterAll(async () => {
    await app.close();
    await svc.stop();
    db.close();
  });

  it('lists and reads in scope only; foreign is answered like missing', async () => {
    const list = async (who: 'admin' | 'head-a' | 'civil-d1', q = '') =>
      ((await call(app, who, 'GET', `/api/hazards${q}`)).json() as { hazards: H[] }).hazards
        .map((h) => h.id)
        .sort();
    expect(await list('admin')).toEqual([ids.a, ids.b].sort());
    expect(await list('head-a')).toEqual([ids.a]);
    expect(await list('civil-d1')).toEqual([ids.a]);
    expect(await list('head-a', '?siteId=site-b')).toEqual([]);
    expect(await list('admin', '?state=closed')).toEqual([]);
    expect(await list('admin', '?state=open,rectifying')).toHaveLength(2);
    const bad = await call(app, 'admin', 'GET', '/api/hazards?state=done');
    expect(bad.statusCode).toBe(400);
    expect((bad.json() as Err).error.message).toContain('state');

    const foreign = await call(app, 'head-a', 'GET', `/api/hazards/${ids.b}`);
    const missing = await call(app, 'head-a', 'GET', '/api/hazards/nope');
    expect([foreign.statusCode, missing.statusCode]).toEqual([404, 404]);
    expect((foreign.json() as Err).error.code).toBe((missing.json() as Err).error.code);
    expect((await call(app, 'head-a', 'GET', `/api/hazards/${ids.a}`)).json()).toMatchObject({
      hazard: { id: ids.a, kind: 'coverage_gap' },
      log: [{ action: 'opened' }],
    });
  });

  it('assigns in scope by roles that may resolve, naming bad fields', async () => {
    const body = { responsible: '张三', rectifyBy: '2026-01-08T18:00:00+08:00' };
    expect((await call(app, 'head-a', 'POST', `/api/hazards/${ids.b}/assign`, body)).statusCode).toBe(404);
    expect((await call(app, 'head-a', 'POST', '/api/hazards/nope/assign', body)).statusCode).toBe(404);
    for (const who of ['civil-d1', 'fire-d1'] as const) {
      const r = await call(app, who, 'POST', `/api/hazards/${ids.a}/assign`, body);
      expect(r.statusCode, who).toBe(403);
    }
    const cases: Array<[unknown, string]> = [
      [{ rectifyBy: body.rectifyBy }, 'responsible'],
      [{ responsible: '', rectifyBy: body.rectifyBy }, 'responsible'],
      [{ responsible: '张三' }, 'rectifyBy'],
      [{ responsible: '张三', rectifyBy: 'next tuesday' }, 'rectifyBy'],
    ];
    for (const [b, field] of cases) {
      const r = await call(app, 'head-a', 'POST', `/api/hazards/${ids.a}/assign`, b);
      expect(r.statusCode, JSON.stringify(b)).toBe(400);
      expect((r.json() as Err).error.message).toContain(field);
    }
    const ok = await call(app, 'staff-a', 'POST', `/api/hazards/${ids.a}/assign`, body);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({
      hazard: { state: 'rectifying', responsible: '张三', rectifyBy: Date.parse(body.rectifyBy) },
    });
  });

  it('exports the CSV of the user scope with a BOM', async () => {
    const r = await call(app, 'head-a', 'GET', '/api/hazards.csv');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/csv; charset=utf-8/);
    expect(r.headers['content-disposition']).toContain('carewatch-hazards.csv');
    expect(r.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const lines = r.body
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toContain('隐患编号');
    expect(lines[0]).toContain('整改期限');
    expect(lines[0]).toContain('整改责任人');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(ids.a);
    expect(lines[1]).toContain('张三');
    expect((await call(app, null, 'GET', '/api/hazards.csv')).statusCode).toBe(401);
  });

  it('closes only with a note, in scope, by roles that may resolve', async () => {
    expect((await call(app, 'head-a', 'POST', `/api/hazards/${ids.b}/close`, { note: 'x' })).statusCode).toBe(
      404,
    );
    expect(
      (await call(app, 'civil-d1', 'POST', `/api/hazards/${ids.a}/close`, { note: 'x' })).statusCode,
    ).toBe(403);
    const missing = await call(app, 'head-a', 'POST', `/api/hazards/${ids.a}/close`, {});
    expect(missing.statusCode).toBe(400);
    expect((missing.json() as Err).error.message).toContain('note');
    const empty = await call(app, 'head-a', 'POST', `/api/hazards/${ids.a}/close`, { note: '  ' });
    expect(empty.statusCode).toBe(400);
    expect((empty.json() as Err).error.code).toBe('HAZARD_NOTE_REQUIRED');
    const ok = await call(app, 'head-a', 'POST', `/api/hazards/${ids.a}/close`, {
      note: '食堂补装摄像机并验收',
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ hazard: { state: 'closed', closedBy: 'user:head-a' } });
    const again = await call(app, 'head-a', 'POST', `/api/hazards/${ids.a}/close`, { note: 'again' });
    expect((again.json() as Err).error.code).toBe('HAZARD_CLOSED');
  });
});
