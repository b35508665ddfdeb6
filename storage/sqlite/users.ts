import type { Role, Session, User, UserRepo } from '../types.js';
import type { Db } from './open.js';
import { stmt } from './statements.js';

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  role: Role;
  site_ids: string;
  region_id: string | null;
}

function toUser(r: UserRow): User {
  const sites = JSON.parse(r.site_ids) as string[] | '*';
  return {
    id: r.id,
    username: r.username,
    passwordHash: r.password_hash,
    role: r.role,
    siteIds: sites,
    regionId: r.region_id,
  };
}

export class SqliteUserRepo implements UserRepo {
  constructor(private readonly db: Db) {}

  async putUser(u: User): Promise<void> {
    stmt(
      this.db,
      `INSERT INTO users (id, username, password_hash, role, site_ids, region_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(username) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role,
           site_ids = excluded.site_ids, region_id = excluded.region_id`,
    ).run(u.id, u.username, u.passwordHash, u.role, JSON.stringify(u.siteIds), u.regionId, Date.now());
  }

  async byUsername(username: string): Promise<User | null> {
    const r = stmt(this.db, 'SELECT * FROM users WHERE username = ?').get(username) as UserRow | undefined;
    return r ? toUser(r) : null;
  }

  async byId(id: string): Promise<User | null> {
    const r = stmt(this.db, 'SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    return r ? toUser(r) : null;
  }

  async createSession(tokenHash: string, s: Session, at: number): Promise<void> {
    stmt(
      this.db,
      'INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
    ).run(tokenHash, s.userId, s.csrf, at, s.expiresAt);
  }

  async session(tokenHash: string, now: number): Promise<Session | null> {
    const r = stmt(
      this.db,
      'SELECT user_id, csrf, expires_at FROM sessions WHERE token_hash = ? AND expires_at > ?',
    ).get(tokenHash, now) as { user_id: string; csrf: string; expires_at: number } | undefined;
    return r ? { userId: r.user_id, csrf: r.csrf, expiresAt: r.expires_at } : null;
  }

  async deleteSession(tokenHash: string): Promise<void> {
    stmt(this.db, 'DELETE FROM sessions WHERE token_hash = ?').run(tokenHash);
  }
}
