import type { GatewayRecord, Presence, Region, RegionLevel, RegistryRepo, Site } from '../types.js';
import type { Pool } from './db.js';

interface PresenceRow {
  gateway_id: string;
  site_id: string;
  state: 'online' | 'offline';
  changed_at: number;
  last_seen_at: number | null;
  last_heartbeat_at: number | null;
  heartbeat_interval_s: number | null;
  outbox_depth: number | null;
  reason: string | null;
}

interface GatewayRow {
  id: string;
  site_id: string;
  secret_hash: string;
  disabled: boolean;
}

const toGateway = (r: GatewayRow): GatewayRecord => ({
  id: r.id,
  siteId: r.site_id,
  secretHash: r.secret_hash,
  disabled: r.disabled,
});

export class PgRegistryRepo implements RegistryRepo {
  constructor(private readonly pool: Pool) {}

  async upsertSite(s: { id: string; name: string; region?: string | null }): Promise<void> {
    await this.pool.query(
      `INSERT INTO sites (id, name, region, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, region = EXCLUDED.region`,
      [s.id, s.name, s.region ?? null, Date.now()],
    );
  }

  async site(id: string): Promise<Site | null> {
    const r = await this.pool.query<{ id: string; name: string; region: string | null; created_at: number }>(
      'SELECT id, name, region, created_at FROM sites WHERE id = $1',
      [id],
    );
    const x = r.rows[0];
    return x ? { id: x.id, name: x.name, region: x.region, createdAt: x.created_at } : null;
  }

  async sites(): Promise<Site[]> {
    const r = await this.pool.query<{ id: string; name: string; region: string | null; created_at: number }>(
      'SELECT id, name, region, created_at FROM sites ORDER BY id',
    );
    return r.rows.map((x) => ({ id: x.id, name: x.name, region: x.region, createdAt: x.created_at }));
  }

  async putGateway(g: { id: string; siteId: string; secretHash: string }): Promise<void> {
    await this.pool.query(
      `INSERT INTO gateways (id, site_id, secret_hash, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET site_id = EXCLUDED.site_id, secret_hash = EXCLUDED.secret_hash`,
      [g.id, g.siteId, g.secretHash, Date.now()],
    );
  }

  async gateway(id: string): Promise<GatewayRecord | null> {
    const r = await this.pool.query<GatewayRow>(
      'SELECT id, site_id, secret_hash, disabled FROM gateways WHERE id = $1',
      [id],
    );
    return r.rows[0] ? toGateway(r.rows[0]) : null;
  }

  async gateways(): Promise<GatewayRecord[]> {
    const r = await this.pool.query<GatewayRow>(
      'SELECT id, site_id, secret_hash, disabled FROM gateways ORDER BY id',
    );
    return r.rows.map(toGateway);
  }

  async setPresence(p: Presence): Promise<void> {
    await this.pool.query(
      `INSERT INTO gateway_presence (gateway_id, site_id, state, changed_at, last_seen_at, last_heartbeat_at,
         heartbeat_interval_s, outbox_depth, reason)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (gateway_id) DO UPDATE SET site_id = EXCLUDED.site_id, state = EXCLUDED.state,
         changed_at = EXCLUDED.changed_at, last_seen_at = EXCLUDED.last_seen_at,
         last_heartbeat_at = EXCLUDED.last_heartbeat_at, heartbeat_interval_s = EXCLUDED.heartbeat_interval_s,
         outbox_depth = EXCLUDED.outbox_depth, reason = EXCLUDED.reason`,
      [
        p.gatewayId,
        p.siteId,
        p.state,
        p.changedAt,
        p.lastSeenAt,
        p.lastHeartbeatAt,
        p.heartbeatIntervalS,
        p.outboxDepth,
        p.reason,
      ],
    );
  }

  async presence(): Promise<Presence[]> {
    const r = await this.pool.query<PresenceRow>('SELECT * FROM gateway_presence ORDER BY gateway_id');
    return r.rows.map((x) => ({
      gatewayId: x.gateway_id,
      siteId: x.site_id,
      state: x.state,
      changedAt: x.changed_at,
      lastSeenAt: x.last_seen_at,
      lastHeartbeatAt: x.last_heartbeat_at,
      heartbeatIntervalS: x.heartbeat_interval_s,
      outboxDepth: x.outbox_depth,
      reason: x.reason,
    }));
  }

  async upsertRegion(r: Region): Promise<void> {
    await this.pool.query(
      `INSERT INTO regions (id, parent_id, name, level) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET parent_id = EXCLUDED.parent_id, name = EXCLUDED.name, level = EXCLUDED.level`,
      [r.id, r.parentId, r.name, r.level],
    );
  }

  async regions(): Promise<Region[]> {
    const r = await this.pool.query<{
      id: string;
      parent_id: string | null;
      name: string;
      level: RegionLevel;
    }>('SELECT id, parent_id, name, level FROM regions ORDER BY id');
    return r.rows.map((x) => ({ id: x.id, parentId: x.parent_id, name: x.name, level: x.level }));
  }

  async putInventory(siteId: string, body: unknown, at: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO site_inventory (site_id, received_at, body) VALUES ($1, $2, $3)
       ON CONFLICT (site_id) DO UPDATE SET received_at = EXCLUDED.received_at, body = EXCLUDED.body`,
      [siteId, at, JSON.stringify(body)],
    );
  }

  async inventory(siteId: string): Promise<{ body: unknown; receivedAt: number } | null> {
    const r = await this.pool.query<{ received_at: number; body: string }>(
      'SELECT received_at, body FROM site_inventory WHERE site_id = $1',
      [siteId],
    );
    const x = r.rows[0];
    return x ? { body: JSON.parse(x.body), receivedAt: x.received_at } : null;
  }
}
