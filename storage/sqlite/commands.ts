import { type CommandRow as Row, toCommandRecord as toRecord } from '../rows.js';
import type { CommandRecord, CommandRepo, CommandStatus } from '../types.js';
import type { Db } from './open.js';
import { stmt } from './statements.js';

export class SqliteCommandRepo implements CommandRepo {
  constructor(private readonly db: Db) {}

  async insert(c: CommandRecord): Promise<void> {
    stmt(
      this.db,
      'INSERT INTO commands (id, site_id, name, args, actor, sent_at, status) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(c.id, c.siteId, c.name, JSON.stringify(c.args), c.actor, c.sentAt, c.status);
  }

  async complete(
    id: string,
    status: CommandStatus,
    at: number,
    reply: Record<string, unknown> | null,
  ): Promise<boolean> {
    const r = stmt(
      this.db,
      `UPDATE commands SET status = ?, replied_at = ?, reply = ? WHERE id = ? AND status = 'sent'`,
    ).run(status, at, reply ? JSON.stringify(reply) : null, id);
    return r.changes === 1;
  }

  async get(id: string): Promise<CommandRecord | null> {
    const r = stmt(this.db, 'SELECT * FROM commands WHERE id = ?').get(id) as Row | undefined;
    return r ? toRecord(r) : null;
  }

  async list(siteId: string, limit: number): Promise<CommandRecord[]> {
    return (
      stmt(this.db, 'SELECT * FROM commands WHERE site_id = ? ORDER BY sent_at DESC LIMIT ?').all(
        siteId,
        limit,
      ) as Row[]
    ).map(toRecord);
  }
}
