import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { logger } from '../../lib/logger.js';
import type { Db } from './open.js';

const log = logger('storage:checkpoint');

/**
 * The worker's code: its own connection to the file, a PASSIVE checkpoint
 * every `everyMs` (copies committed WAL frames into the database file and
 * syncs it, without waiting for or blocking the writer), figures posted back.
 */
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 0');
db.pragma('cache_size = -256');
db.pragma('synchronous = ' + workerData.synchronous);
let stopped = false;
parentPort.on('message', (m) => {
  if (m === 'stop') {
    stopped = true;
    db.close();
    parentPort.postMessage({ stopped: true });
  }
});
const run = () => {
  if (stopped) return;
  try {
    const at = Date.now();
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ at, frames: r.log, backfilled: r.checkpointed, busy: r.busy });
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
  setTimeout(run, workerData.everyMs);
};
setTimeout(run, workerData.everyMs);
`;

/** WAL size, in pages, at which the writer checkpoints by itself (SQLite's default is 1000). */
export const WRITER_AUTOCHECKPOINT_PAGES = 8000;

export interface CheckpointStats {
  runs: number;
  /** When the last reported run started (ms since the epoch). */
  lastRunAt: number;
  /** Frames in the WAL at the last run, and how many of them were in the database file after it. */
  frames: number;
  backfilled: number;
  errors: number;
}

/**
 * Checkpoints a WAL database from a worker thread. A checkpoint copies the
 * pages committed to the WAL back into the database file and syncs it; SQLite
 * runs it in the connection whose commit crosses `wal_autocheckpoint`, so a
 * central under load spent a sixth of its event loop in checkpoints (measured
 * by turning their syncs off). Here a second connection in its own thread does
 * that work; the writer's own automatic checkpoint stays on at a larger
 * threshold (`WRITER_AUTOCHECKPOINT_PAGES`) as the bound on the WAL when the
 * worker falls behind or is gone, and then finds the pages already copied.
 */
export class BackgroundCheckpointer {
  private worker: Worker | undefined;
  readonly stats: CheckpointStats = { runs: 0, lastRunAt: 0, frames: 0, backfilled: 0, errors: 0 };

  constructor(
    private readonly deps: {
      db: Db;
      path: string;
      synchronous: 'NORMAL' | 'FULL';
      everyMs?: number;
    },
  ) {}

  start(): void {
    this.deps.db.pragma(`wal_autocheckpoint = ${WRITER_AUTOCHECKPOINT_PAGES}`);
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    const w = new Worker(WORKER, {
      eval: true,
      workerData: {
        module,
        path: this.deps.path,
        synchronous: this.deps.synchronous,
        everyMs: this.deps.everyMs ?? 100,
      },
    });
    w.on('message', (m: { at?: number; frames?: number; backfilled?: number; error?: string }) => {
      if (m.error !== undefined) {
        this.stats.errors++;
        if (this.stats.errors === 1 || this.stats.errors % 1000 === 0)
          log.warn({ err: m.error, errors: this.stats.errors }, 'background checkpoint failed');
        return;
      }
      if (m.frames === undefined) return;
      this.stats.runs++;
      this.stats.lastRunAt = m.at ?? 0;
      this.stats.frames = m.frames;
      this.stats.backfilled = m.backfilled ?? 0;
    });
    w.on('error', (err) => log.error({ err }, 'checkpoint worker ended; the writer checkpoints alone'));
    w.unref();
    this.worker = w;
  }

  /** Stops the worker; the writer's own checkpoint at close does the rest. */
  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    const stopped = new Promise<void>((resolve) => {
      w.on('message', (m: { stopped?: boolean }) => m.stopped && resolve());
      w.on('exit', () => resolve());
    });
    w.postMessage('stop');
    await Promise.race([stopped, new Promise((r) => setTimeout(r, 2000))]);
    await w.terminate();
  }
}
