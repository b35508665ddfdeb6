import { type ChildProcess, fork } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { requireBuild, tempDir } from '../../../lib/testkit/procs.js';
import { openSqliteCentralStore } from '../../../storage/sqlite/central-store.js';
import {
  BackgroundCheckpointer,
  type CheckpointStats,
  WRITER_AUTOCHECKPOINT_PAGES,
} from '../../../storage/sqlite/checkpointer.js';
import { openDatabase } from '../../../storage/sqlite/open.js';

const WRITER = join(import.meta.dirname, '../../../dist/lib/testkit/store-writer.js');

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('BackgroundCheckpointer', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it("copies the writer's committed pages into the database file from its own thread", async () => {
    const dir = tempDir('cw-ckpt-');
    const path = join(dir.path, 'x.db');
    const db = openDatabase(path, { synchronous: 'FULL' });
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    const cp = new BackgroundCheckpointer({ db, path, synchronous: 'FULL', everyMs: 10 });
    cp.start();
    cleanup.push(() => dir.cleanup());
    cleanup.push(() => {
      db.close();
    });
    cleanup.push(() => cp.stop());
    // the writer's own threshold is raised: the worker is meant to do the copying
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(WRITER_AUTOCHECKPOINT_PAGES);

    const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
    const body = 'x'.repeat(1000);
    for (let tx = 0; tx < 80; tx++) {
      db.transaction(() => {
        for (let i = 0; i < 100; i++) insert.run(body);
      })();
      // a run that started after the commit sees its frames, and copies them all
      const committedAt = Date.now();
      await until('a checkpoint after the commit', () => cp.stats.lastRunAt > committedAt);
      expect(cp.stats.backfilled).toBe(cp.stats.frames);
      expect(cp.stats.frames).toBeGreaterThan(0);
    }
    expect(cp.stats.runs).toBeGreaterThan(0);
    expect(cp.stats.errors).toBe(0);
    expect((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(8000);
    // 8 MB were committed, under the writer's own threshold (32 MB): had nobody else copied them,
    // the WAL would hold them all; copied as they came, the next commit restarted it from its start
    const written = 8000 * 1000;
    expect(statSync(`${path}-wal`).size).toBeLessThan(written / 10);
    expect(statSync(path).size).toBeGreaterThan(written);
  });

  it('stops cleanly, and the writer closes the file with everything in it', async () => {
    const dir = tempDir('cw-ckpt-');
    cleanup.push(() => dir.cleanup());
    const path = join(dir.path, 'central.db');
    const store = openSqliteCentralStore(path);
    expect(store.checkpoints).toBeDefined();
    await store.close();
    const again = openSqliteCentralStore(path);
    expect(await again.events.count()).toBe(0);
    await again.close();
    // an in-memory store has no file to checkpoint and no worker
    const mem = openSqliteCentralStore(':memory:');
    expect(mem.checkpoints).toBeUndefined();
    await mem.close();
  });

  it('loses no acknowledged event and leaves a sound file when the process is SIGKILLed mid-checkpoint', async () => {
    requireBuild();
    const dir = tempDir('cw-ckpt-kill-');
    cleanup.push(() => dir.cleanup());
    const path = join(dir.path, 'central.db');
    const child: ChildProcess = fork(WRITER, [path, '200'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    cleanup.push(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let err = '';
    child.stderr?.on('data', (d) => (err += d));
    let last: { committed: number; lastId: string; checkpoints: CheckpointStats } | undefined;
    child.on('message', (m: NonNullable<typeof last>) => (last = m));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_c, sig) => r(sig)));
    // kill once the worker has copied pages more than once while the writer kept committing
    await until(
      'committed events with checkpoints running',
      () => {
        if (child.exitCode !== null) throw new Error(`writer exited: ${err}`);
        return (
          (last?.committed ?? 0) >= 20_000 &&
          (last?.checkpoints.runs ?? 0) >= 3 &&
          last!.checkpoints.backfilled > 0
        );
      },
      60_000,
    );
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const acked = last!;

    const check = new Database(path);
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    const count = (check.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
    // every batch acknowledged before the kill is there (one more may have committed unreported)
    expect(count).toBeGreaterThanOrEqual(acked.committed);
    expect(count).toBeLessThanOrEqual(acked.committed + 200);
    expect(check.prepare('SELECT id FROM events WHERE id = ?').get(acked.lastId)).toEqual({
      id: acked.lastId,
    });
    check.close();
    // and the store opens on it and goes on (its checkpoint worker too)
    const store = openSqliteCentralStore(path);
    cleanup.push(() => store.close());
    expect(await store.events.count()).toBe(count);
  }, 90_000);
});
