import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCarewatchError } from '../../lib/errors.js';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from '../../lib/testkit/postgres.js';
import { freePort } from '../../lib/testkit/procs.js';
import { CENTRAL_MIGRATIONS } from '../../storage/central-schema.js';
import { openPostgresCentralStore } from '../../storage/postgres/central-store.js';
import { PG_CENTRAL_MIGRATIONS } from '../../storage/postgres/schema.js';
import type { Alert, CentralStore } from '../../storage/types.js';
import { centralStoreContract } from './central-store.contract.js';
import { call, draft, incoming, KEY, T0 } from './contract/fixtures.js';

const unavailable = postgresUnavailable();
if (unavailable) console.warn(`PostgreSQL store tests skipped: ${unavailable}`);
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

centralStoreContract(
  'PostgreSQL',
  async () => {
    const url = await server!.createDatabase();
    const store = await openPostgresCentralStore(url);
    return { store, exec: async (text) => void (await sql(url, text)), close: () => store.close() };
  },
  unavailable,
);

describe.skipIf(unavailable !== null)(
  `PostgreSQL store${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    /** Two central instances: two stores, two pools, one database. */
    async function twoInstances(): Promise<[CentralStore, CentralStore, string]> {
      const url = await server!.createDatabase();
      const [a, b] = await Promise.all([openPostgresCentralStore(url), openPostgresCentralStore(url)]);
      return [a, b, url];
    }

    it('mirrors every SQLite migration version', () => {
      expect(PG_CENTRAL_MIGRATIONS.map((m) => m.version)).toEqual(CENTRAL_MIGRATIONS.map((m) => m.version));
    });

    it('migrates once when several instances start together, and again is a no-op', async () => {
      const url = await server!.createDatabase();
      const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresCentralStore(url)));
      const r = await sql(url, 'SELECT version FROM schema_migrations ORDER BY version');
      expect(r.rows.map((x) => x.version)).toEqual(CENTRAL_MIGRATIONS.map((m) => m.version));
      const again = await openPostgresCentralStore(url);
      await Promise.all([...stores, again].map((s) => s.close()));
    });

    it('opens the same alert key from two instances at once: one alert, counted twice', async () => {
      const [a, b] = await twoInstances();
      try {
        for (let i = 0; i < 25; i++) {
          const key = { ...KEY, source: `btn-${i}` };
          const events = [call({ deviceId: key.source, seq: 1 }), call({ deviceId: key.source, seq: 2 })];
          await a.events.insertBatch(events.map((e) => incoming(e)));
          const rs = await Promise.all([
            a.alerts.openOrRepeat(draft({ ...key, eventId: events[0]!.id }), events[0]!.id),
            b.alerts.openOrRepeat(draft({ ...key, eventId: events[1]!.id }), events[1]!.id),
          ]);
          expect(rs.map((r) => r !== 'already-processed' && r.created).sort()).toEqual([false, true]);
          const open = await a.alerts.list({
            siteIds: ['site-a'],
            types: ['emergency_call'],
            states: ['open'],
          });
          const mine = open.filter((x) => x.source === key.source);
          expect(mine).toHaveLength(1);
          expect(mine[0]!.count).toBe(2);
          expect((await b.alerts.audit(mine[0]!.id)).map((x) => x.action)).toEqual(['opened', 'repeated']);
        }
        expect(await a.events.unprocessed(100)).toEqual([]);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('lets one instance claim an event that both try to apply', async () => {
      const [a, b] = await twoInstances();
      try {
        for (let i = 0; i < 10; i++) {
          const e = call({ deviceId: `btn-${i}` });
          await a.events.insertBatch([incoming(e)]);
          const d = draft({ source: `btn-${i}`, eventId: e.id });
          const rs = await Promise.all([
            a.alerts.openOrRepeat(d, e.id),
            b.alerts.openOrRepeat({ ...d }, e.id),
          ]);
          expect(rs.filter((r) => r === 'already-processed')).toHaveLength(1);
        }
        expect((await a.alerts.list({})).map((x) => x.count)).toEqual(Array(10).fill(1));
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('lets one of two instances take each escalation step', async () => {
      const [a, b] = await twoInstances();
      try {
        const { alert } = (await a.alerts.openOrRepeat(draft())) as { alert: Alert };
        for (let level = 0; level < 5; level++) {
          const rs = await Promise.all([
            a.alerts.escalate(alert.id, level, T0 + level, T0 + level + 1, 'a'),
            b.alerts.escalate(alert.id, level, T0 + level, T0 + level + 1, 'b'),
          ]);
          expect(rs.filter((r) => r !== null)).toHaveLength(1);
        }
        expect((await b.alerts.get(alert.id))?.escalationLevel).toBe(5);
        expect((await a.alerts.audit(alert.id)).filter((x) => x.action === 'escalated')).toHaveLength(5);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('stores each event once when two instances insert overlapping batches', async () => {
      const [a, b] = await twoInstances();
      try {
        const es = Array.from({ length: 300 }, (_, i) => incoming(call({ seq: i }), T0 + i));
        const [ra, rb] = await Promise.all([
          a.events.insertBatch(es.slice(0, 200)),
          b.events.insertBatch(es.slice(100).reverse()),
        ]);
        const fresh = new Map<string, number>();
        const tally = (batch: typeof es, news: boolean[]) => {
          batch.forEach((e, i) => {
            if (news[i]) fresh.set(e.envelope.id, (fresh.get(e.envelope.id) ?? 0) + 1);
          });
        };
        tally(es.slice(0, 200), ra);
        tally(es.slice(100).reverse(), rb);
        expect(fresh.size).toBe(300);
        expect([...fresh.values()].every((n) => n === 1)).toBe(true);
        expect(await a.events.count()).toBe(300);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('refuses TRUNCATE of the audit table too', async () => {
      const url = await server!.createDatabase();
      const store = await openPostgresCentralStore(url);
      try {
        await store.alerts.openOrRepeat(draft());
        await expect(sql(url, 'TRUNCATE alert_audit CASCADE')).rejects.toThrow(/append-only/);
      } finally {
        await store.close();
      }
    });

    it('fails to open with a coded error that does not show the password', async () => {
      const port = await freePort();
      const err = await openPostgresCentralStore(`postgresql://cw:s3cret@127.0.0.1:${port}/cw`).catch(
        (e) => e,
      );
      expect(isCarewatchError(err) && err.code).toBe('STORAGE_OPEN_FAILED');
      expect(String(err.message)).not.toContain('s3cret');
    });
  },
);
