import { type CommandRow as Row, toCommandRecord as toRecord } from '../rows.js';
import type { CommandRecord, CommandRepo, CommandStatus } from '../types.js';
import type { Pool } from './db.js';

export class PgCommandRepo implements CommandRepo {
  constructor(private readonly pool: Pool) {}

  async insert(c: CommandRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO commands (id, site_id, name, args, actor, sent_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [c.id, c.siteId, c.name, JSON.stringify(c.args), c.actor, c.sentAt, c.status],
    );
  }

  async complete(
    id: string,
    status: CommandStatus,
    at: number,
    reply: Record<string, unknown> | null,
  ): Promise<boolean> {
    // compare-and-set on 'sent': a late or repeated reply finds it completed and changes nothing
    const r = await this.pool.query(
      `UPDATE commands SET status = $1, replied_at = $2, reply = $3 WHERE id = $4 AND status = 'sent'`,
      [status, at, reply ? JSON.stringify(reply) : null, id],
    );
    return r.rowCount === 1;
  }

  async get(id: string): Promise<CommandRecord | null> {
    const r = await this.pool.query<Row>('SELECT * FROM commands WHERE id = $1', [id]);
    return r.rows[0] ? toRecord(r.rows[0]) : null;
  }

  async list(siteId: string, limit: number): Promise<CommandRecord[]> {
    const r = await this.pool.query<Row>(
      'SELECT * FROM commands WHERE site_id = $1 ORDER BY sent_at DESC, id DESC LIMIT $2',
      [siteId, limit],
    );
    return r.rows.map(toRecord);
  }
}
