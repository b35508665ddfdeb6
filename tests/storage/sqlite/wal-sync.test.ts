import { fdatasync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../lib/testkit/procs.js';
import { buildEnvelope } from '../../../protocol/index.js';
import { openSqliteCentralStore } from '../../../storage/sqlite/central-store.js';
import { type Db, openDatabase } from '../../../storage/sqlite/open.js';
import { type Datasync, durableTransaction, useWalSync, WalSync } from '../../../storage/sqlite/wal-sync.js';

describe('WalSync and durableTransaction', () => {
  const cleanup: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanup.splice(0).reverse()) c();
  });
  const fileDb = (): Db => {
    const dir = tempDir('cw-walsync-');
    const db = openDatabase(join(dir.path, 'x.db'), { synchronous: 'FULL' });
    db.exec('CREATE TABLE t (v INTEGER NOT NULL)');
    cleanup.push(() => dir.cleanup());
    cleanup.push(() => db.close());
    return db;
  };

  /** An fdatasync that waits until the test lets it go. */
  function heldSync() {
    const held: Array<() => void> = [];
    const datasync: Datasync = (fd, cb) => {
      held.push(() => fdatasync(fd, cb));
    };
    return {
      datasync,
      held,
      release: async () => {
        for (const go of held.splice(0)) go();
        await new Promise((r) => setTimeout(r, 20));
      },
    };
  }

  it('answers a commit only after the WAL sync that follows it, and restores the connection level', async () => {
    const db = fileDb();
    const h = heldSync();
    const sync = new WalSync(`${db.name}-wal`, h.datasync);
    useWalSync(db, sync);
    let done = false;
    const p = durableTransaction(db, () => db.prepare('INSERT INTO t VALUES (1)').run().changes).then((n) => {
      done = true;
      return n;
    });
    // committed (visible) but not answered while the sync is held
    expect((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(1);
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    expect(h.held).toHaveLength(1);
    await h.release();
    expect(await p).toBe(1);
    expect(sync.syncs).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL again for every other write
  });

  it('groups commits: those made while a sync runs share the next one, never the one in flight', async () => {
    const db = fileDb();
    const h = heldSync();
    const sync = new WalSync(`${db.name}-wal`, h.datasync, 1);
    useWalSync(db, sync);
    const answered: string[] = [];
    const commit = (tag: string) =>
      durableTransaction(db, () => db.prepare('INSERT INTO t VALUES (1)').run()).then(() => {
        answered.push(tag);
      });
    const a = commit('a'); // starts sync 1
    await new Promise((r) => setTimeout(r, 5));
    const rest = ['b', 'c', 'd'].map(commit); // made while sync 1 runs: wait for sync 2
    expect(h.held).toHaveLength(1);
    await h.release(); // sync 1 done: a is answered, sync 2 starts
    await a;
    expect(answered).toEqual(['a']);
    expect(h.held).toHaveLength(1);
    await h.release();
    await Promise.all(rest);
    expect(answered.sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(sync.syncs).toBe(2);
    expect(sync.waits).toBe(4);
  });

  it('runs two syncs at once by default; the commits after them wait for the first to end', async () => {
    const db = fileDb();
    const h = heldSync();
    const sync = new WalSync(`${db.name}-wal`, h.datasync);
    useWalSync(db, sync);
    const answered: string[] = [];
    const commit = (tag: string) =>
      durableTransaction(db, () => db.prepare('INSERT INTO t VALUES (1)').run()).then(() => {
        answered.push(tag);
      });
    const a = commit('a');
    const b = commit('b');
    expect(h.held).toHaveLength(2); // both started at once
    const rest = ['c', 'd'].map(commit);
    expect(h.held).toHaveLength(2); // c and d share the next one
    h.held.shift()!(); // the first ends
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toEqual(['a']);
    expect(h.held).toHaveLength(2); // b's, and the one c and d share
    await h.release();
    await Promise.all([a, b, ...rest]);
    expect(answered.sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(sync.syncs).toBe(3);
  });

  it('refuses the commit to its caller when the sync fails (the caller does not acknowledge)', async () => {
    const db = fileDb();
    const failing: Datasync = (_fd, cb) => {
      setImmediate(() => cb(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })));
    };
    useWalSync(db, new WalSync(`${db.name}-wal`, failing));
    await expect(durableTransaction(db, () => db.prepare('INSERT INTO t VALUES (1)').run())).rejects.toThrow(
      /EIO/,
    );
  });

  it('refuses to run inside another transaction, whose commit it could not wait for', async () => {
    const db = fileDb();
    let inner: Promise<unknown> | undefined;
    db.transaction(() => {
      inner = durableTransaction(db, () => db.prepare('INSERT INTO t VALUES (1)').run());
    })();
    await expect(inner).rejects.toThrow(/inside another transaction/);
  });

  it('syncs for real on a file, and is a plain transaction in memory', async () => {
    const db = fileDb();
    expect(await durableTransaction(db, () => db.prepare('INSERT INTO t VALUES (7)').run().changes)).toBe(1);
    const mem = openDatabase(':memory:');
    cleanup.push(() => mem.close());
    mem.exec('CREATE TABLE t (v INTEGER NOT NULL)');
    expect(await durableTransaction(mem, () => mem.prepare('INSERT INTO t VALUES (7)').run().changes)).toBe(
      1,
    );
  });

  it("holds the ingest's acknowledgement, the fire room's attendance and the processed marks until the sync", async () => {
    const dir = tempDir('cw-walsync-store-');
    cleanup.push(() => dir.cleanup());
    const store = openSqliteCentralStore(join(dir.path, 'central.db'));
    // the store's repositories share its connection; reach it through a first write
    const badge = (seq: number) =>
      buildEnvelope({
        kind: 'attendance',
        siteId: 's1',
        deviceId: 'badge-1',
        seq,
        data: { source: 'badge', action: 'check_in', operatorId: 'op-1' },
      });
    const envelope = badge(1);
    await store.events.insertBatch([{ envelope, gatewayId: 'gw', receivedAt: 1 }]);
    const db = (store.events as unknown as { db: Db }).db;
    const h = heldSync();
    useWalSync(db, new WalSync(`${db.name}-wal`, h.datasync));
    const settled: string[] = [];
    const track = (tag: string, p: Promise<unknown>) => p.then(() => settled.push(tag));
    const second = badge(2);
    const all = Promise.all([
      track('insert', store.events.insertBatch([{ envelope: second, gatewayId: 'gw', receivedAt: 2 }])),
      track('marks', store.events.markProcessedMany([envelope.id])),
      track(
        'attendance',
        store.fireRoom.recordAttendanceMany([
          {
            entry: {
              siteId: 's1',
              operatorId: 'op-1',
              action: 'check_in',
              count: null,
              source: 'badge:b',
              at: 1,
            },
            eventId: envelope.id,
          },
        ]),
      ),
    ]);
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toEqual([]);
    await h.release(); // one sync was in flight for the first commit; the other two wait for the next
    await h.release();
    await all;
    expect(settled.sort()).toEqual(['attendance', 'insert', 'marks']);
    await store.close();
  });
});
