import { existsSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  MEDIA_MIGRATIONS,
  type MediaStore,
  openMediaStore,
  SqliteMediaIndex,
} from '../../../central/media/store.js';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from '../../../lib/testkit/postgres.js';
import { tempDir } from '../../../lib/testkit/procs.js';
import { PG_MEDIA_MIGRATIONS } from '../../../storage/postgres/media.js';

const rec = (id: string, createdAt: number, over: { siteId?: string; eventId?: string | null } = {}) => ({
  id,
  siteId: over.siteId ?? 'site-a',
  cameraId: 'cam-1',
  kind: 'clip' as const,
  eventId: over.eventId ?? null,
  eventKind: over.eventId ? 'emergency_call' : null,
  fromMs: createdAt,
  toMs: createdAt + 1000,
  contentType: 'video/mp4',
  bytes: 3,
  gatewayId: 'gw-a',
  createdAt,
});
const access = (over: Partial<Parameters<MediaStore['logAccess']>[0]> = {}) => ({
  at: 1,
  actor: 'user:a',
  role: 'admin',
  action: 'view' as const,
  siteId: 'site-a',
  cameraId: 'cam-1',
  mediaId: null,
  detail: null,
  ip: null,
  ...over,
});
const id = (n: string) => `01900000-0000-7000-8000-00000000000${n}`;

/** The same behaviour from the SQLite index and the PostgreSQL one. */
function contract(
  name: string,
  open: () => Promise<{ store: MediaStore; tamper(sql: string): Promise<unknown> }>,
  skip: string | null,
) {
  describe.skipIf(skip !== null)(`MediaStore on ${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    const closing: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const c of closing.splice(0)) await c();
    });
    const opened = async () => {
      const o = await open();
      closing.push(() => o.store.close());
      return o;
    };

    it('indexes an upload once and prunes only what is older than the cut-off, files first', async () => {
      const { store } = await opened();
      mkdirSync(store.siteDir('site-a'), { recursive: true });
      for (const [n, at] of [
        ['a', 1000],
        ['b', 2000],
        ['c', 9000],
      ] as const) {
        expect(await store.add(rec(id(n), at))).toBe(true);
        writeFileSync(store.fileOf(rec(id(n), at)), 'mp4');
      }
      expect(await store.add(rec(id('a'), 1000))).toBe(false);
      await store.logAccess(access({ mediaId: id('a') }));
      // a file already gone does not stop the pruning
      unlinkSync(store.fileOf(rec(id('b'), 2000)));
      expect(await store.prune(5000)).toBe(2);
      expect((await store.list({})).map((m) => m.id)).toEqual([id('c')]);
      expect(existsSync(store.fileOf(rec(id('a'), 1000)))).toBe(false);
      expect(existsSync(store.fileOf(rec(id('c'), 9000)))).toBe(true);
      // the access log keeps the record of who watched what
      expect(await store.accessLog({})).toEqual([access({ mediaId: id('a') })]);
    });

    it('answers by id, site, camera, event and kind, newest first, within the limit', async () => {
      const { store } = await opened();
      await store.add(rec(id('1'), 1000, { eventId: 'ev-1' }));
      await store.add(rec(id('2'), 2000, { siteId: 'site-b' }));
      await store.add({ ...rec(id('3'), 3000), kind: 'snapshot', contentType: 'image/jpeg' });
      expect(await store.get(id('1'))).toEqual(rec(id('1'), 1000, { eventId: 'ev-1' }));
      expect(await store.get(id('9'))).toBeUndefined();
      const ids = async (q: Parameters<MediaStore['list']>[0]) => (await store.list(q)).map((m) => m.id);
      expect(await ids({})).toEqual([id('3'), id('2'), id('1')]);
      expect(await ids({ siteIds: ['site-a'] })).toEqual([id('3'), id('1')]);
      expect(await ids({ siteIds: [] })).toEqual([]);
      expect(await ids({ eventIds: ['ev-1', 'ev-2'] })).toEqual([id('1')]);
      expect(await ids({ kind: 'snapshot', cameraId: 'cam-1' })).toEqual([id('3')]);
      expect(await ids({ limit: 2 })).toEqual([id('3'), id('2')]);
      for (const [i, site] of ['site-a', 'site-b', 'site-a'].entries()) {
        await store.logAccess(access({ at: i, siteId: site, mediaId: i === 2 ? id('1') : null }));
      }
      const ats = async (q: Parameters<MediaStore['accessLog']>[0]) =>
        (await store.accessLog(q)).map((e) => e.at);
      expect(await ats({})).toEqual([2, 1, 0]);
      expect(await ats({ siteIds: ['site-a'] })).toEqual([2, 0]);
      expect(await ats({ mediaId: id('1') })).toEqual([2]);
      expect(await ats({ limit: 1 })).toEqual([2]);
    });

    it('keeps the access log append-only', async () => {
      const { store, tamper } = await opened();
      await store.logAccess(access({ action: 'download', ip: '127.0.0.1' }));
      await expect(tamper("UPDATE media_access SET actor = 'x'")).rejects.toThrow(/append-only/);
      await expect(tamper('DELETE FROM media_access')).rejects.toThrow(/append-only/);
      expect(await store.accessLog({})).toHaveLength(1);
    });
  });
}

const dirs: Array<{ cleanup(): void }> = [];
afterAll(() => {
  for (const d of dirs.splice(0)) d.cleanup();
});
const dataDir = () => {
  const d = tempDir('cw-media-store-');
  dirs.push(d);
  return d.path;
};

contract(
  'SQLite',
  async () => {
    const store = await openMediaStore({ dataDir: dataDir() });
    const db = (store.index as unknown as { db: { prepare(s: string): { run(): void } } }).db;
    return { store, tamper: async (sql) => db.prepare(sql).run() };
  },
  null,
);

const unavailable = postgresUnavailable();
let server: TestPostgres | null = null;
beforeAll(async () => {
  if (!unavailable) server = await startTestPostgres();
}, 120_000);
afterAll(async () => server?.stop(), 60_000);

contract(
  'PostgreSQL',
  async () => {
    const url = await server!.createDatabase();
    const store = await openMediaStore({ dataDir: dataDir(), postgresUrl: url });
    return {
      store,
      async tamper(sql) {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          return await c.query(sql);
        } finally {
          await c.end();
        }
      },
    };
  },
  unavailable,
);

describe('media schemas', () => {
  it('PostgreSQL mirrors every SQLite migration version', () => {
    expect(PG_MEDIA_MIGRATIONS.map((m) => m.version)).toEqual(MEDIA_MIGRATIONS.map((m) => m.version));
  });

  it('SQLite indexes in media/media.db of the data directory', async () => {
    const dir = dataDir();
    const store = await openMediaStore({ dataDir: dir });
    expect(store.index).toBeInstanceOf(SqliteMediaIndex);
    expect(existsSync(`${dir}/media/media.db`)).toBe(true);
    await store.close();
  });
});
