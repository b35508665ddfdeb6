import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCIDENT_MIGRATIONS } from '../../alerts/accidents/sqlite-repo.js';
import { HAZARD_MIGRATIONS } from '../../alerts/hazards/sqlite-repo.js';
import { NOTIFY_MIGRATIONS } from '../../alerts/notify/sqlite-log.js';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from '../../lib/testkit/postgres.js';
import { openPostgresCentralStore } from '../../storage/postgres/central-store.js';
import {
  PG_ACCIDENT_MIGRATIONS,
  PG_HAZARD_MIGRATIONS,
  PG_NOTIFY_MIGRATIONS,
} from '../../storage/postgres/safety-schema.js';
import { openPostgresSafetyStore } from '../../storage/postgres/safety-store.js';
import { openSafetyStore, type SafetyStore } from '../../storage/safety-store.js';
import { T0 } from './safety/harness.js';
import { logEntry } from './safety/notify-log.js';
import { safetyStoreContract } from './safety-store.contract.js';

const unavailable = postgresUnavailable();
if (unavailable) console.warn(`PostgreSQL safety store tests skipped: ${unavailable}`);
let server: TestPostgres | null = null;

beforeAll(async () => {
  if (unavailable) return;
  server = await startTestPostgres();
}, 120_000);
afterAll(async () => server?.stop(), 60_000);

async function sql(url: string, text: string): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(text);
  } finally {
    await c.end();
  }
}

safetyStoreContract(
  'PostgreSQL',
  async () => {
    const url = await server!.createDatabase();
    const stores: SafetyStore[] = [];
    return {
      async open() {
        const s = await openPostgresSafetyStore(url);
        stores.push(s);
        return s;
      },
      exec: async (text) => void (await sql(url, text)),
      close: async () => void (await Promise.all(stores.map((s) => s.close()))),
    };
  },
  unavailable,
);

describe.skipIf(unavailable !== null)(
  `PostgreSQL safety store${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    it('mirrors every SQLite migration version of the three sets', () => {
      const versions = (ms: Array<{ version: number }>) => ms.map((m) => m.version);
      expect(versions(PG_ACCIDENT_MIGRATIONS)).toEqual(versions(ACCIDENT_MIGRATIONS));
      expect(versions(PG_HAZARD_MIGRATIONS)).toEqual(versions(HAZARD_MIGRATIONS));
      expect(versions(PG_NOTIFY_MIGRATIONS)).toEqual(versions(NOTIFY_MIGRATIONS));
    });

    it('has the same tables and columns as the SQLite schema', async () => {
      const url = await server!.createDatabase();
      const store = await openPostgresSafetyStore(url);
      try {
        const Database = (await import('better-sqlite3')).default;
        const lite = new Database(':memory:');
        for (const m of [...ACCIDENT_MIGRATIONS, ...HAZARD_MIGRATIONS, ...NOTIFY_MIGRATIONS])
          lite.exec(m.sql);
        const tables = ['accidents', 'accident_reports', 'hazards', 'hazard_log', 'hazard_watches'];
        tables.push('hazard_false_alarms', 'notifications', 'notify_instances');
        for (const t of tables) {
          const liteCols = (lite.pragma(`table_info(${t})`) as Array<{ name: string }>).map((c) => c.name);
          const r = await sql(
            url,
            `SELECT column_name FROM information_schema.columns WHERE table_name = '${t}' AND column_name NOT IN ('n', 'owner')`,
          );
          expect(r.rows.map((x) => x.column_name).sort(), t).toEqual(liteCols.sort());
        }
        lite.close();
      } finally {
        await store.close();
      }
    });

    it('resends after a restart only what this instance claimed, not what another is delivering', async () => {
      const url = await server!.createDatabase();
      const a = await openPostgresSafetyStore(url, { instanceId: 'central-0' });
      const b = await openPostgresSafetyStore(url, { instanceId: 'central-1' });
      try {
        const e1 = logEntry('al-1', { createdAt: T0 });
        const e2 = logEntry('al-2', { createdAt: T0 + 1 });
        const e3 = logEntry('al-3', { createdAt: T0 + 2 });
        expect(await a.notifyLog().claim(e1)).toBe(true);
        expect(await b.notifyLog().claim(e2)).toBe(true);
        expect(await a.notifyLog().claim(e3)).toBe(true);
        expect(await b.notifyLog().claim(e3)).toBe(false);
        // B records a delivery of A's entry (a group message may carry it): the owner stays A
        await b.notifyLog().record({ ...e3, status: 'failed', attempts: 1, updatedAt: T0 + 9 });
        await a.notifyLog().record({ ...e3, status: 'pending', attempts: 2, updatedAt: T0 + 10 });
        const restartedA = await openPostgresSafetyStore(url, { instanceId: 'central-0' });
        try {
          const mine = await restartedA.notifyLog().resumable!(100);
          expect(mine.map((e) => e.alertId)).toEqual(['al-3', 'al-1']);
          expect(mine[0]?.attempts).toBe(2);
          expect((await b.notifyLog().resumable!(100)).map((e) => e.alertId)).toEqual(['al-2']);
          expect(await restartedA.notifyLog().resumable!(1)).toHaveLength(1);
          expect(await a.notifyLog().list({ status: 'pending' })).toHaveLength(3);
        } finally {
          await restartedA.close();
        }
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('hands the pending entries of an instance whose lease lapsed to one live instance', async () => {
      const url = await server!.createDatabase();
      const open = (id: string) => openPostgresSafetyStore(url, { instanceId: id });
      const [a, b, c] = [await open('central-0'), await open('central-1'), await open('central-2')];
      try {
        const [la, lb, lc] = [a.notifyLog(), b.notifyLog(), c.notifyLog()];
        for (const l of [la, lb, lc]) expect(await l.renew!(60_000)).toBe(true);
        for (let i = 0; i < 3; i++)
          expect(await la.claim(logEntry(`al-${i}`, { createdAt: T0 + i }))).toBe(true);
        await la.record(logEntry('al-done', { status: 'delivered', createdAt: T0 + 9 }));
        expect(await lb.claim(logEntry('al-b', { createdAt: T0 + 5 }))).toBe(true);
        // A renewed a moment ago: nothing to adopt under a one-minute lease
        expect(await lb.adopt!(60_000, 100)).toEqual([]);
        await new Promise((r) => setTimeout(r, 250));
        expect(await lb.renew!(200)).toBe(false); // B too was late for a 200 ms lease
        // under a 200 ms lease A has lapsed (B has just renewed): B takes A's pending entries, newest first
        const adopted = await lb.adopt!(200, 100);
        expect(adopted.map((e) => e.alertId)).toEqual(['al-2', 'al-1', 'al-0']);
        expect(adopted[0]).toMatchObject({
          status: 'pending',
          channel: 'webhook',
          recipients: logEntry('x').recipients,
        });
        expect(await lc.adopt!(200, 100)).toEqual([]); // taken once
        expect((await lb.resumable!(100)).map((e) => e.alertId)).toEqual(['al-b', 'al-2', 'al-1', 'al-0']);
        expect(await la.resumable!(100)).toEqual([]);
        // A comes back: it learns its lease had lapsed and has nothing left to resend
        expect(await la.renew!(200)).toBe(false);
        expect(await la.renew!(60_000)).toBe(true);
        // a graceful stop gives the lease up: adopted at once, whatever the lease length
        await lb.release!();
        expect((await lc.adopt!(60_000, 2)).map((e) => e.alertId)).toEqual(['al-b', 'al-2']);
        expect((await lc.adopt!(60_000, 100)).map((e) => e.alertId)).toEqual(['al-1', 'al-0']);
        const all = await la.list({ limit: 100 });
        expect(all.find((e) => e.alertId === 'al-done')?.status).toBe('delivered');
        const owners = await sql(url, 'SELECT alert_id, owner FROM notifications ORDER BY alert_id');
        expect(owners.rows).toEqual([
          { alert_id: 'al-0', owner: 'central-2' },
          { alert_id: 'al-1', owner: 'central-2' },
          { alert_id: 'al-2', owner: 'central-2' },
          { alert_id: 'al-b', owner: 'central-2' },
          { alert_id: 'al-done', owner: 'central-0' },
        ]);
      } finally {
        await Promise.all([a.close(), b.close(), c.close()]);
      }
    });

    it("orders renewals and adoptions by the lapsed instance's row lock, never across each other", async () => {
      const url = await server!.createDatabase();
      const a = await openPostgresSafetyStore(url, { instanceId: 'central-0' });
      const b = await openPostgresSafetyStore(url, { instanceId: 'central-1' });
      const adopter = new pg.Client({ connectionString: url });
      await adopter.connect();
      try {
        const la = a.notifyLog();
        await la.renew!(60_000);
        expect(await la.claim(logEntry('al-1'))).toBe(true);
        await new Promise((r) => setTimeout(r, 250));
        // an adopter between its lock of the lapsed instance and its commit
        await adopter.query('BEGIN');
        await adopter.query("SELECT id FROM notify_instances WHERE id = 'central-0' FOR UPDATE");
        let renewed: boolean | undefined;
        const renewal = la.renew!(200).then((held) => (renewed = held));
        await new Promise((r) => setTimeout(r, 300));
        expect(renewed).toBeUndefined(); // waits for the adoption
        await adopter.query("UPDATE notifications SET owner = 'central-1' WHERE owner = 'central-0'");
        await adopter.query('COMMIT');
        await renewal;
        expect(renewed).toBe(false);
        expect(await la.resumable!(100)).toEqual([]);

        // the other way round: a renewal in progress when an adopter comes; the adopter waits,
        // re-reads the heartbeat and takes nothing
        const lb = b.notifyLog();
        await lb.renew!(60_000);
        expect(await lb.claim(logEntry('al-2'))).toBe(true);
        await new Promise((r) => setTimeout(r, 250));
        await adopter.query('BEGIN');
        await adopter.query("SELECT id FROM notify_instances WHERE id = 'central-1' FOR UPDATE");
        let adopted: unknown[] | undefined;
        const adoption = la.adopt!(200, 100).then((got) => (adopted = got));
        await new Promise((r) => setTimeout(r, 300));
        expect(adopted).toBeUndefined();
        await adopter.query(
          "UPDATE notify_instances SET heartbeat_at = (extract(epoch from clock_timestamp()) * 1000)::bigint WHERE id = 'central-1'",
        );
        await adopter.query('COMMIT');
        await adoption;
        expect(adopted).toEqual([]);
        // al-1 is central-1's since the adoption above
        expect((await lb.resumable!(100)).map((e) => e.alertId)).toEqual(['al-2', 'al-1']);
      } finally {
        await adopter.end();
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('never gives one entry to two adopters racing for a lapsed instance', async () => {
      const url = await server!.createDatabase();
      const dead = await openPostgresSafetyStore(url, { instanceId: 'dead' });
      const live = await Promise.all(
        [1, 2, 3, 4].map((i) => openPostgresSafetyStore(url, { instanceId: `live-${i}` })),
      );
      try {
        await dead.notifyLog().renew!(60_000);
        const n = 300;
        await dead
          .notifyLog()
          .record(...Array.from({ length: n }, (_, i) => logEntry(`al-${i}`, { createdAt: T0 + i })));
        await dead.notifyLog().release!();
        for (const s of live) await s.notifyLog().renew!(60_000);
        // four adopters at once, each taking at most 40 per round, until nothing is left
        const got = new Map<string, string>();
        for (let round = 0; round < 10; round++) {
          const answers = await Promise.all(live.map((s) => s.notifyLog().adopt!(60_000, 40)));
          for (const [i, entries] of answers.entries()) {
            for (const e of entries) {
              expect(got.has(e.alertId), `${e.alertId} adopted twice`).toBe(false);
              got.set(e.alertId, `live-${i + 1}`);
            }
          }
        }
        expect(got.size).toBe(n);
        const owners = await sql(url, 'SELECT alert_id, owner FROM notifications');
        expect(owners.rows).toHaveLength(n);
        for (const r of owners.rows) expect(r.owner).toBe(got.get(r.alert_id));
      } finally {
        await Promise.all([dead.close(), ...live.map((s) => s.close())]);
      }
    });

    it('migrates once when several instances start together, beside the central store', async () => {
      const url = await server!.createDatabase();
      const central = await openPostgresCentralStore(url);
      const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresSafetyStore(url)));
      try {
        const sets = {
          accident_migrations: PG_ACCIDENT_MIGRATIONS,
          hazard_migrations: PG_HAZARD_MIGRATIONS,
          notify_migrations: PG_NOTIFY_MIGRATIONS,
        };
        for (const [table, ms] of Object.entries(sets)) {
          const r = await sql(url, `SELECT version FROM ${table} ORDER BY version`);
          expect(r.rows.map((x) => x.version)).toEqual(ms.map((m) => m.version));
        }
        await expect(sql(url, 'TRUNCATE hazard_log CASCADE')).rejects.toThrow(/append-only/);
        await expect(sql(url, 'TRUNCATE accident_reports CASCADE')).rejects.toThrow(/append-only/);
      } finally {
        await Promise.all([central.close(), ...stores.map((s) => s.close())]);
      }
    });

    it('openSafetyStore picks PostgreSQL when given a URL: instances share what they write', async () => {
      const url = await server!.createDatabase();
      const [a, b] = await Promise.all([
        openSafetyStore({ dataDir: '/nonexistent-carewatch-dir', postgresUrl: url }),
        openSafetyStore({ dataDir: '/nonexistent-carewatch-dir', postgresUrl: url }),
      ]);
      try {
        await a.hazards.watch({
          alertId: 'al-1',
          siteId: 's1',
          source: 'cam-1',
          kind: 'camera_offline',
          title: 'cam',
          checkAt: 5,
        });
        expect(await b.hazards.nextDueAt()).toBe(5);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  },
);
