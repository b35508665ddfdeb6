import type { Role, Session, User, UserRepo } from '../types.js';
import type { Pool } from './db.js';

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  role: Role;
  site_ids: string;
  region_id: string | null;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  passwordHash: r.password_hash,
  role: r.role,
  siteIds: JSON.parse(r.site_ids) as string[] | '*',
  regionId: r.region_id,
});

const USER_COLUMNS = 'id, username, password_hash, role, site_ids, region_id';

export class PgUserRepo implements UserRepo {
  constructor(private readonly pool: Pool) {}

  async putUser(u: User): Promise<void> {
    await this.pool.query(
      `INSERT INTO users (id, username, password_hash, role, site_ids, region_id, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role,
         site_ids = EXCLUDED.site_ids, region_id = EXCLUDED.region_id`,
      [u.id, u.username, u.passwordHash, u.role, JSON.stringify(u.siteIds), u.regionId, Date.now()],
    );
  }

  async byUsername(username: string): Promise<User | null> {
    const r = await this.pool.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE username = $1`, [
      username,
    ]);
    return r.rows[0] ? toUser(r.rows[0]) : null;
  }

  async byId(id: string): Promise<User | null> {
    const r = await this.pool.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
    return r.rows[0] ? toUser(r.rows[0]) : null;
  }

  async createSession(tokenHash: string, s: Session, at: number): Promise<void> {
    await this.pool.query(
      'INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)',
      [tokenHash, s.userId, s.csrf, at, s.expiresAt],
    );
  }

  async session(tokenHash: string, now: number): Promise<Session | null> {
    const r = await this.pool.query<{ user_id: string; csrf: string; expires_at: number }>(
      'SELECT user_id, csrf, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2',
      [tokenHash, now],
    );
    const x = r.rows[0];
    return x ? { userId: x.user_id, csrf: x.csrf, expiresAt: x.expires_at } : null;
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.pool.query('DELETE FROM sessions WHERE token_hash = $1', [tokenHash]);
  }
}
