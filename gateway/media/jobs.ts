/**
 * Durable queue of media work at the gateway: event clips waiting until the
 * footage after the event has been recorded, then cut, then uploaded to the
 * central; snapshots and requested clips waiting for their upload. A row
 * survives restarts and link outages; it is removed once the central has the
 * file. The footage itself stays in the recording segments: a clip is a copy.
 */
import { migrate as applyMigrations } from '../../storage/sqlite/open.js';
import type { Db } from '../recorder/segment-index.js';

export type MediaKind = 'clip' | 'snapshot';
/** cut: waiting for `dueAt` to cut the clip; upload: the file exists and waits for the central; failed: gave up. */
export type JobState = 'cut' | 'upload' | 'failed';

export interface MediaJob {
  id: string;
  kind: MediaKind;
  cameraId: string;
  /** The event the clip belongs to (emergency call, fire alarm); null for requested media. */
  eventId: string | null;
  /** The kind of that event (emergency_call, panel_alarm): it decides who may watch the clip. */
  eventKind: string | null;
  fromMs: number;
  toMs: number;
  state: JobState;
  path: string | null;
  contentType: string;
  bytes: number | null;
  attempts: number;
  dueAt: number;
  error: string | null;
  createdAt: number;
}

const MIGRATIONS = [
  {
    version: 1,
    sql: `
CREATE TABLE media_jobs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('clip', 'snapshot')),
  camera_id TEXT NOT NULL,
  event_id TEXT,
  event_kind TEXT,
  from_ms INTEGER NOT NULL,
  to_ms INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('cut', 'upload', 'failed')),
  path TEXT,
  content_type TEXT NOT NULL,
  bytes INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  due_at INTEGER NOT NULL,
  error TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX media_jobs_due ON media_jobs(state, due_at);
CREATE UNIQUE INDEX media_jobs_event_camera ON media_jobs(event_id, camera_id) WHERE event_id IS NOT NULL;
`,
  },
];

const COLS = `id, kind, camera_id AS cameraId, event_id AS eventId, event_kind AS eventKind, from_ms AS fromMs, to_ms AS toMs, state,
  path, content_type AS contentType, bytes, attempts, due_at AS dueAt, error, created_at AS createdAt`;

export class MediaJobs {
  private readonly s;

  constructor(db: Db) {
    applyMigrations(db, MIGRATIONS, 'media_migrations');
    this.s = {
      insert: db.prepare(
        `INSERT INTO media_jobs (id, kind, camera_id, event_id, event_kind, from_ms, to_ms, state, path, content_type, bytes, due_at, created_at)
         VALUES (@id, @kind, @cameraId, @eventId, @eventKind, @fromMs, @toMs, @state, @path, @contentType, @bytes, @dueAt, @createdAt)
         ON CONFLICT DO NOTHING`,
      ),
      get: db.prepare(`SELECT ${COLS} FROM media_jobs WHERE id = ?`),
      due: db.prepare(
        `SELECT ${COLS} FROM media_jobs WHERE state IN ('cut', 'upload') AND due_at <= ? ORDER BY due_at LIMIT ?`,
      ),
      nextDue: db.prepare(`SELECT min(due_at) AS t FROM media_jobs WHERE state IN ('cut', 'upload')`),
      toUpload: db.prepare(
        `UPDATE media_jobs SET state = 'upload', path = ?, bytes = ?, due_at = ?, attempts = 0, error = NULL WHERE id = ?`,
      ),
      retry: db.prepare('UPDATE media_jobs SET attempts = attempts + 1, due_at = ?, error = ? WHERE id = ?'),
      postpone: db.prepare('UPDATE media_jobs SET due_at = ?, error = ? WHERE id = ?'),
      fail: db.prepare(`UPDATE media_jobs SET state = 'failed', error = ? WHERE id = ?`),
      remove: db.prepare('DELETE FROM media_jobs WHERE id = ?'),
      counts: db.prepare('SELECT state, count(*) AS n FROM media_jobs GROUP BY state'),
    };
  }

  /** Adds a job; false when one for the same event and camera (or the same id) exists already. */
  add(job: Omit<MediaJob, 'attempts' | 'error'>): boolean {
    return this.s.insert.run(job).changes === 1;
  }

  get(id: string): MediaJob | undefined {
    return this.s.get.get(id) as MediaJob | undefined;
  }

  due(now: number, limit = 16): MediaJob[] {
    return this.s.due.all(now, limit) as MediaJob[];
  }

  /** When the next job falls due (null: nothing waits). */
  nextDueAt(): number | null {
    return (this.s.nextDue.get() as { t: number | null }).t;
  }

  cut(id: string, path: string, bytes: number, now: number): void {
    this.s.toUpload.run(path, bytes, now, id);
  }

  retryAt(id: string, at: number, error: string): void {
    this.s.retry.run(at, error.slice(0, 500), id);
  }

  /** Looks again at `at` without counting an attempt (e.g. the footage is not all recorded yet). */
  postpone(id: string, at: number, note: string): void {
    this.s.postpone.run(at, note.slice(0, 500), id);
  }

  fail(id: string, error: string): void {
    this.s.fail.run(error.slice(0, 500), id);
  }

  remove(id: string): void {
    this.s.remove.run(id);
  }

  counts(): Record<JobState, number> {
    const out: Record<JobState, number> = { cut: 0, upload: 0, failed: 0 };
    for (const r of this.s.counts.all() as Array<{ state: JobState; n: number }>) out[r.state] = r.n;
    return out;
  }
}
