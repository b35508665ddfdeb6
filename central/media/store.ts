/**
 * Snapshots and clips uploaded by the gateways, and the access log of every
 * look at footage. Files live in `{dataDir}/media/{siteId}/`; their index and
 * the access log in a `MediaIndex`: `{dataDir}/media/media.db` (SQLite, WAL)
 * on embedded parts, the central's PostgreSQL database when it has one, so
 * several central instances share one index and one access log (the files
 * then need a directory they all mount; footage itself stays at the sites).
 * The access log is append-only: both databases refuse UPDATE and DELETE on it.
 */
import { mkdirSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type Db, migrate, openDatabase } from '../../storage/sqlite/open.js';
import { stmt } from '../../storage/sqlite/statements.js';

export type MediaKind = 'clip' | 'snapshot';

export interface MediaRecord {
  id: string;
  siteId: string;
  cameraId: string;
  kind: MediaKind;
  /** The event the clip belongs to (emergency call, fire alarm), null for requested media. */
  eventId: string | null;
  /** That event's kind: roles without the video capability may watch clips of events they may see. */
  eventKind: string | null;
  fromMs: number;
  toMs: number;
  contentType: string;
  bytes: number;
  gatewayId: string;
  createdAt: number;
}

export type AccessAction = 'list' | 'view' | 'download' | 'snapshot' | 'clip';

export interface AccessEntry {
  at: number;
  actor: string;
  role: string;
  action: AccessAction;
  siteId: string;
  cameraId: string | null;
  mediaId: string | null;
  detail: string | null;
  ip: string | null;
}

export const MEDIA_MIGRATIONS = [
  {
    version: 1,
    sql: `
CREATE TABLE media (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  camera_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('clip', 'snapshot')),
  event_id TEXT,
  event_kind TEXT,
  from_ms INTEGER NOT NULL,
  to_ms INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  gateway_id TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX media_camera ON media(site_id, camera_id, from_ms);
CREATE INDEX media_event ON media(event_id) WHERE event_id IS NOT NULL;
CREATE TABLE media_access (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  role TEXT NOT NULL,
  action TEXT NOT NULL,
  site_id TEXT NOT NULL,
  camera_id TEXT,
  media_id TEXT,
  detail TEXT,
  ip TEXT
);
CREATE INDEX media_access_site ON media_access(site_id, id);
CREATE TRIGGER media_access_append_only_u BEFORE UPDATE ON media_access
  BEGIN SELECT RAISE(ABORT, 'media_access is append-only'); END;
CREATE TRIGGER media_access_append_only_d BEFORE DELETE ON media_access
  BEGIN SELECT RAISE(ABORT, 'media_access is append-only'); END;
`,
  },
];

const COLS = `id, site_id AS siteId, camera_id AS cameraId, kind, event_id AS eventId, event_kind AS eventKind, from_ms AS fromMs,
  to_ms AS toMs, content_type AS contentType, bytes, gateway_id AS gatewayId, created_at AS createdAt`;
const ACCESS_COLS = `at, actor, role, action, site_id AS siteId, camera_id AS cameraId, media_id AS mediaId,
  detail, ip`;

export interface MediaQuery {
  siteIds?: string[] | undefined;
  cameraId?: string | undefined;
  eventIds?: string[] | undefined;
  kind?: MediaKind | undefined;
  limit?: number | undefined;
}

/** The index of uploaded media and the access log, in SQLite or PostgreSQL. */
export interface MediaIndex {
  /** false when the id was known already (a repeated upload). */
  add(r: MediaRecord): Promise<boolean>;
  get(id: string): Promise<MediaRecord | undefined>;
  list(q: MediaQuery): Promise<MediaRecord[]>;
  /** Records uploaded before `beforeMs`, oldest first. */
  older(beforeMs: number, limit: number): Promise<MediaRecord[]>;
  remove(id: string): Promise<void>;
  logAccess(e: AccessEntry): Promise<void>;
  accessLog(q: AccessQuery): Promise<AccessEntry[]>;
  close(): Promise<void>;
}

export interface AccessQuery {
  siteIds?: string[] | undefined;
  mediaId?: string | undefined;
  limit?: number;
}

export const MEDIA_LIST_MAX = 1000;
export const ACCESS_LOG_MAX = 5000;

/** The index in `{dir}/media.db`. */
export class SqliteMediaIndex implements MediaIndex {
  constructor(private readonly db: Db) {}

  /** Opens (and migrates) `{dir}/media.db`. */
  static open(dir: string): SqliteMediaIndex {
    mkdirSync(dir, { recursive: true });
    const db = openDatabase(join(dir, 'media.db'), { synchronous: 'FULL' });
    migrate(db, MEDIA_MIGRATIONS, 'media_migrations');
    return new SqliteMediaIndex(db);
  }

  async add(r: MediaRecord): Promise<boolean> {
    return (
      stmt(
        this.db,
        `INSERT INTO media (id, site_id, camera_id, kind, event_id, event_kind, from_ms, to_ms, content_type, bytes, gateway_id, created_at)
           VALUES (@id, @siteId, @cameraId, @kind, @eventId, @eventKind, @fromMs, @toMs, @contentType, @bytes, @gatewayId, @createdAt)
           ON CONFLICT(id) DO NOTHING`,
      ).run(r).changes === 1
    );
  }

  async get(id: string): Promise<MediaRecord | undefined> {
    return stmt(this.db, `SELECT ${COLS} FROM media WHERE id = ?`).get(id) as MediaRecord | undefined;
  }

  async list(q: MediaQuery): Promise<MediaRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const inList = (col: string, values: string[]) => {
      where.push(`${col} IN (SELECT value FROM json_each(?))`);
      params.push(JSON.stringify(values));
    };
    if (q.siteIds) inList('site_id', q.siteIds);
    if (q.eventIds) inList('event_id', q.eventIds);
    if (q.cameraId !== undefined) {
      where.push('camera_id = ?');
      params.push(q.cameraId);
    }
    if (q.kind !== undefined) {
      where.push('kind = ?');
      params.push(q.kind);
    }
    const sql = `SELECT ${COLS} FROM media ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, id DESC LIMIT ?`;
    return stmt(this.db, sql).all(...params, Math.min(q.limit ?? 100, MEDIA_LIST_MAX)) as MediaRecord[];
  }

  async older(beforeMs: number, limit: number): Promise<MediaRecord[]> {
    return stmt(
      this.db,
      `SELECT ${COLS} FROM media WHERE created_at < ? ORDER BY created_at, id LIMIT ?`,
    ).all(beforeMs, limit) as MediaRecord[];
  }

  async remove(id: string): Promise<void> {
    stmt(this.db, 'DELETE FROM media WHERE id = ?').run(id);
  }

  async logAccess(e: AccessEntry): Promise<void> {
    stmt(
      this.db,
      `INSERT INTO media_access (at, actor, role, action, site_id, camera_id, media_id, detail, ip)
         VALUES (@at, @actor, @role, @action, @siteId, @cameraId, @mediaId, @detail, @ip)`,
    ).run(e);
  }

  async accessLog(q: AccessQuery): Promise<AccessEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.siteIds) {
      where.push('site_id IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(q.siteIds));
    }
    if (q.mediaId !== undefined) {
      where.push('media_id = ?');
      params.push(q.mediaId);
    }
    const sql = `SELECT ${ACCESS_COLS} FROM media_access ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id DESC LIMIT ?`;
    return stmt(this.db, sql).all(...params, Math.min(q.limit ?? 200, ACCESS_LOG_MAX)) as AccessEntry[];
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/** Where uploaded files go, and their index. */
export class MediaStore {
  readonly dir: string;

  constructor(
    dataDir: string,
    readonly index: MediaIndex,
  ) {
    this.dir = join(dataDir, 'media');
  }

  /** Where a record's file is (or goes). */
  fileOf(r: Pick<MediaRecord, 'id' | 'siteId' | 'kind'>): string {
    return join(this.dir, r.siteId, `${r.id}.${r.kind === 'snapshot' ? 'jpg' : 'mp4'}`);
  }

  siteDir(siteId: string): string {
    return join(this.dir, siteId);
  }

  add(r: MediaRecord): Promise<boolean> {
    return this.index.add(r);
  }

  get(id: string): Promise<MediaRecord | undefined> {
    return this.index.get(id);
  }

  list(q: MediaQuery): Promise<MediaRecord[]> {
    return this.index.list(q);
  }

  /**
   * Deletes clips and snapshots uploaded before `beforeMs` (files, then rows),
   * at most `limit` per call; the access log keeps its entries. Returns how many went.
   */
  async prune(beforeMs: number, limit = 500): Promise<number> {
    const old = await this.index.older(beforeMs, limit);
    for (const m of old) {
      await unlink(this.fileOf(m)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      await this.index.remove(m.id);
    }
    return old.length;
  }

  logAccess(e: AccessEntry): Promise<void> {
    return this.index.logAccess(e);
  }

  accessLog(q: AccessQuery): Promise<AccessEntry[]> {
    return this.index.accessLog(q);
  }

  close(): Promise<void> {
    return this.index.close();
  }
}

/**
 * The central's media store: indexed in its PostgreSQL database when it has
 * one (imported only then), else in `{dataDir}/media/media.db`.
 */
export async function openMediaStore(o: {
  dataDir: string;
  postgresUrl?: string | undefined;
}): Promise<MediaStore> {
  const dir = join(o.dataDir, 'media');
  mkdirSync(dir, { recursive: true });
  if (o.postgresUrl) {
    const { openPostgresMediaIndex } = await import('../../storage/postgres/media.js');
    return new MediaStore(o.dataDir, await openPostgresMediaIndex(o.postgresUrl));
  }
  return new MediaStore(o.dataDir, SqliteMediaIndex.open(dir));
}
