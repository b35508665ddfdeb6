import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { addUser } from '../../cli/provision.js';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from '../../lib/testkit/postgres.js';
import { openPostgresSafetyStore } from '../../storage/postgres/safety-store.js';
import { cli, freePort, type Proc, requireBuild, tempDir, until } from '../helpers/procs.js';

const unavailable = postgresUnavailable();

async function login(base: string, password: string): Promise<string> {
  const r = await fetch(`${base}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
  if (!r.ok) throw new Error(`login failed: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { token: string }).token;
}

/** An instance of the central as the API sees it: GET, or POST when a body is given. */
function instance(base: string, token: string) {
  return async <T = unknown>(path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${base}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? null : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as T };
  };
}

/**
 * Two central processes on one PostgreSQL database, each with a data
 * directory of its own: what one records about accidents and hazards the
 * other serves, and a deadline both watch is acted on by one of them.
 */
describe.skipIf(unavailable !== null)(
  `accidents and hazards shared by two centrals on PostgreSQL${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    const dirs = [tempDir('cw-safety-a-'), tempDir('cw-safety-b-')];
    let server: TestPostgres | null = null;
    const procs: Proc[] = [];
    let hook: Server | undefined;
    /** Dedup keys of the notifications the fake webhook received, one per notification per request. */
    const delivered: string[] = [];
    afterAll(async () => {
      for (const p of procs) await p.kill('SIGTERM');
      hook?.close();
      delete process.env.CAREWATCH_PG_URL;
      await server?.stop();
      for (const d of dirs) d.cleanup();
    }, 60_000);

    it('serves one register and ledger from both instances and fires each deadline once', async () => {
      requireBuild();
      server = await startTestPostgres();
      const url = await server!.createDatabase();
      process.env.CAREWATCH_PG_URL = url; // provisioning and both processes use this database
      const admin = await addUser({ dataDir: dirs[0]!.path, username: 'admin', role: 'admin' });

      const hookPort = await freePort();
      hook = createServer((req, res) => {
        let body = '';
        req.on('data', (d) => (body += d));
        req.on('end', () => {
          const n = (JSON.parse(body) as { notifications: Array<{ dedupKey: string }> }).notifications;
          delivered.push(...n.map((x) => x.dedupKey));
          res.writeHead(200).end('{}');
        });
      });
      await new Promise<void>((r) => hook!.listen(hookPort, '127.0.0.1', () => r()));
      const notify = {
        baseUrl: 'http://127.0.0.1:8080',
        channels: [
          { type: 'webhook', name: 'duty', url: `http://127.0.0.1:${hookPort}/hook`, secret: 's'.repeat(16) },
        ],
        routes: [{ channels: ['duty'], types: ['accident', 'hazard'] }],
      };
      const ports = [await freePort(), await freePort()];
      for (let i = 0; i < 2; i++) {
        const cfg = join(dirs[i]!.path, 'central.yaml');
        const central = { dataDir: dirs[i]!.path, mqtt: { port: 0 }, http: { port: ports[i] }, notify };
        writeFileSync(cfg, stringify(central));
        const p = cli(['central', '--config', cfg], { CAREWATCH_MQTT_CLIENT_ID: `central-${i}` });
        procs.push(p);
        await p.waitFor(/central ready/, 60_000);
      }
      const bases = ports.map((port) => `http://127.0.0.1:${port}`);
      const a = instance(bases[0]!, await login(bases[0]!, admin.password));
      const b = instance(bases[1]!, await login(bases[1]!, admin.password));
      type Acc = { id: string; state: string; warnedAt: number | null; overdueAt: number | null };

      // seeded while both instances run; the API calls below make each of them re-arm its
      // deadline timer, so both watch the same warning, deadline and rectification deadline
      const now = Date.now();
      const deadline = now + 8_000;
      const seed = await openPostgresSafetyStore(url);
      await seed.accidents.insert({
        id: 'acc-seeded',
        siteId: 'site-a',
        alertId: null,
        title: '老人跌倒骨折',
        classifiedAt: deadline - 3600_000,
        classifiedBy: 'user:admin',
        deadlineAt: deadline, // inside the 15-min warning window: due at once, overdue in 8 s
        state: 'pending_report',
        reportedAt: null,
        reportedLate: false,
        warnedAt: null,
        overdueAt: null,
      });
      const drafts = ['panel-0', 'panel-1', 'panel-2'].map((source, i) => ({
        id: `hz-${i}`,
        siteId: 'site-a',
        source,
        kind: 'panel_trouble' as const,
        title: `火灾报警控制器故障 ${source}`,
        at: now,
        alertId: null,
        actor: 'system:hazards',
      }));
      for (const d of drafts) await seed.hazards.open(d);
      await seed.hazards.assign('hz-0', { responsible: '王五', rectifyBy: deadline, actor: 'u', at: now });
      await seed.close();

      // classified on A and on B; the one of A is reported on B and seen reported on A
      const classified = await a<{ accident: Acc }>('/api/accidents', {
        siteId: 'site-a',
        title: '食物中毒',
      });
      expect(classified.status).toBe(200);
      const id = classified.body.accident.id;
      const other = await b<{ accident: Acc }>('/api/accidents', { siteId: 'site-a', title: '烫伤' });
      expect(other.status).toBe(200);
      const id2 = other.body.accident.id;
      const later = new Date(now + 86_400_000).toISOString();
      expect((await b('/api/hazards/hz-1/assign', { responsible: '赵六', rectifyBy: later })).status).toBe(
        200,
      );
      expect((await a('/api/hazards/hz-2/assign', { responsible: '钱七', rectifyBy: later })).status).toBe(
        200,
      );
      const reported = await b<{ accident: Acc }>(`/api/accidents/${id}/reports`, {
        to: '区民政局值班室',
        channel: 'phone',
      });
      expect(reported.status).toBe(200);
      const onA = await a<{ accident: Acc; reports: unknown[] }>(`/api/accidents/${id}`);
      expect(onA.body.accident.state).toBe('reported');
      expect(onA.body.reports).toHaveLength(1);

      // a hazard assigned on B is closed on A
      expect((await a('/api/hazards/hz-1/close', { note: '已更换电源模块' })).status).toBe(200);
      const h1 = await b<{ hazard: { state: string }; log: Array<{ action: string }> }>('/api/hazards/hz-1');
      expect(h1.body.hazard.state).toBe('closed');
      expect(h1.body.log.map((e) => e.action)).toEqual(['opened', 'assigned', 'closed']);

      // the seeded deadlines pass while both instances watch them
      const seeded = await until(async () => {
        const r = await b<{ accident: Acc }>('/api/accidents/acc-seeded');
        return r.body.accident.overdueAt !== null ? r.body.accident : undefined;
      }, 30_000);
      expect(seeded).toMatchObject({ state: 'overdue' });
      expect(seeded.warnedAt).not.toBeNull();
      type HazardLog = { log: Array<{ action: string }> };
      await until(async () => {
        const r = await a<HazardLog>('/api/hazards/hz-0');
        return r.body.log.some((e) => e.action === 'overdue') ? true : undefined;
      }, 30_000);
      await new Promise((r) => setTimeout(r, 1500)); // time for a second notice, if one were coming
      const log0 = await b<HazardLog>('/api/hazards/hz-0');
      expect(log0.body.log.map((e) => e.action)).toEqual(['opened', 'assigned', 'overdue']);
      const output = procs.map((p) => p.output()).join('\n');
      const count = (re: RegExp) => output.split('\n').filter((l) => re.test(l)).length;
      expect(count(/accident not reported within the deadline/)).toBe(1);
      expect(count(/hazard rectification overdue/)).toBe(1);

      // each notice reached the webhook once, sent by whichever instance emitted it
      await until(async () => (delivered.length >= 5 ? true : undefined), 30_000);
      await new Promise((r) => setTimeout(r, 1000)); // anything sent twice would arrive now
      expect([...delivered].sort()).toEqual(
        [
          `accident:${id}:accident_classified`,
          `accident:${id2}:accident_classified`,
          'accident:acc-seeded:accident_deadline_near',
          'accident:acc-seeded:accident_overdue',
          `hazard:hz-0:hazard_overdue:${deadline}`,
        ].sort(),
      );

      // all of it is in PostgreSQL: neither data directory has an SQLite central file
      for (const d of dirs) expect(existsSync(join(d.path, 'central.db'))).toBe(false);
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const r = await c.query('SELECT count(*)::int AS n FROM accident_reports');
        expect(r.rows[0].n).toBe(1);
        const owners = await c.query(
          "SELECT DISTINCT owner FROM notifications WHERE status = 'delivered' ORDER BY owner",
        );
        for (const o of owners.rows) expect(['central-0', 'central-1']).toContain(o.owner);
        expect(owners.rows.length).toBeGreaterThan(0);
      } finally {
        await c.end();
      }
    }, 180_000);
  },
);
