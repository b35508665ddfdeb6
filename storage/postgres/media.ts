import type {
  AccessEntry,
  AccessQuery,
  MediaIndex,
  MediaQuery,
  MediaRecord,
} from '../../central/media/store.js';
import { ACCESS_LOG_MAX, MEDIA_LIST_MAX } from '../../central/media/store.js';
import { CarewatchError, errorMessage } from '../../lib/errors.js';
import type { Migration } from '../sqlite/open.js';
import { createPool, migrate, type Pool, type PoolOptions, redactUrl } from './db.js';
import { APPEND_ONLY_FN, appendOnly } from './safety-schema.js';

/**
 * The media index and the access log in the PostgreSQL dialect; versions
 * mirror `MEDIA_MIGRATIONS` (central/media/store.ts) one for one. The access
 * log refuses UPDATE, DELETE and TRUNCATE.
 */
export const PG_MEDIA_MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `${APPEND_ONLY_FN}
CREATE TABLE media (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  camera_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('clip', 'snapshot')),
  event_id TEXT,
  event_kind TEXT,
  from_ms BIGINT NOT NULL,
  to_ms BIGINT NOT NULL,
  content_type TEXT NOT NULL,
  bytes BIGINT NOT NULL,
  gateway_id TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX media_camera ON media(site_id, camera_id, from_ms);
CREATE INDEX media_event ON media(event_id) WHERE event_id IS NOT NULL;
CREATE INDEX media_created ON media(created_at);
CREATE TABLE media_access (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at BIGINT NOT NULL,
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
${appendOnly('media_access')}
`,
  },
];

const COLS = `id, site_id AS "siteId", camera_id AS "cameraId", kind, event_id AS "eventId",
  event_kind AS "eventKind", from_ms AS "fromMs", to_ms AS "toMs", content_type AS "contentType", bytes,
  gateway_id AS "gatewayId", created_at AS "createdAt"`;
const ACCESS_COLS = `at, actor, role, action, site_id AS "siteId", camera_id AS "cameraId",
  media_id AS "mediaId", detail, ip`;

/** Builds `WHERE ...` from optional filters, numbering the parameters after `args`. */
function filters(conds: Array<[string, unknown]>, args: unknown[]): string {
  const where: string[] = [];
  for (const [sql, v] of conds) {
    if (v === undefined) continue;
    args.push(v);
    where.push(sql.replace('?', `$${args.length}`));
  }
  return where.length ? `WHERE ${where.join(' AND ')}` : '';
}

/** The media index shared by every central instance on one PostgreSQL database. */
export class PgMediaIndex implements MediaIndex {
  constructor(private readonly pool: Pool) {}

  async add(r: MediaRecord): Promise<boolean> {
    const res = await this.pool.query(
      `INSERT INTO media (id, site_id, camera_id, kind, event_id, event_kind, from_ms, to_ms, content_type, bytes, gateway_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING`,
      [
        r.id,
        r.siteId,
        r.cameraId,
        r.kind,
        r.eventId,
        r.eventKind,
        r.fromMs,
        r.toMs,
        r.contentType,
        r.bytes,
        r.gatewayId,
        r.createdAt,
      ],
    );
    return res.rowCount === 1;
  }

  async get(id: string): Promise<MediaRecord | undefined> {
    const r = await this.pool.query<MediaRecord>(`SELECT ${COLS} FROM media WHERE id = $1`, [id]);
    return r.rows[0];
  }

  async list(q: MediaQuery): Promise<MediaRecord[]> {
    const args: unknown[] = [];
    const where = filters(
      [
        ['site_id = ANY(?)', q.siteIds],
        ['event_id = ANY(?)', q.eventIds],
        ['camera_id = ?', q.cameraId],
        ['kind = ?', q.kind],
      ],
      args,
    );
    args.push(Math.min(q.limit ?? 100, MEDIA_LIST_MAX));
    const r = await this.pool.query<MediaRecord>(
      `SELECT ${COLS} FROM media ${where} ORDER BY created_at DESC, id DESC LIMIT $${args.length}`,
      args,
    );
    return r.rows;
  }

  async older(beforeMs: number, limit: number): Promise<MediaRecord[]> {
    const r = await this.pool.query<MediaRecord>(
      `SELECT ${COLS} FROM media WHERE created_at < $1 ORDER BY created_at, id LIMIT $2`,
      [beforeMs, limit],
    );
    return r.rows;
  }

  async remove(id: string): Promise<void> {
    await this.pool.query('DELETE FROM media WHERE id = $1', [id]);
  }

  async logAccess(e: AccessEntry): Promise<void> {
    await this.pool.query(
      `INSERT INTO media_access (at, actor, role, action, site_id, camera_id, media_id, detail, ip)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [e.at, e.actor, e.role, e.action, e.siteId, e.cameraId, e.mediaId, e.detail, e.ip],
    );
  }

  async accessLog(q: AccessQuery): Promise<AccessEntry[]> {
    const args: unknown[] = [];
    const where = filters(
      [
        ['site_id = ANY(?)', q.siteIds],
        ['media_id = ?', q.mediaId],
      ],
      args,
    );
    args.push(Math.min(q.limit ?? 200, ACCESS_LOG_MAX));
    const r = await this.pool.query<AccessEntry>(
      `SELECT ${ACCESS_COLS} FROM media_access ${where} ORDER BY id DESC LIMIT $${args.length}`,
      args,
    );
    return r.rows;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Opens the media index in the central's PostgreSQL database, on a small pool of its own. */
export async function openPostgresMediaIndex(
  connectionString: string,
  opts: PoolOptions = {},
): Promise<PgMediaIndex> {
  const pool = createPool(connectionString, { max: 2, ...opts });
  try {
    await migrate(pool, PG_MEDIA_MIGRATIONS, 'media_migrations');
  } catch (err) {
    await pool.end().catch(() => {});
    if (err instanceof CarewatchError) throw err;
    throw new CarewatchError(
      'STORAGE_OPEN_FAILED',
      `cannot open the media index in PostgreSQL ${redactUrl(connectionString)}: ${errorMessage(err)}`,
      { url: redactUrl(connectionString) },
      { cause: err },
    );
  }
  return new PgMediaIndex(pool);
}
