import type { GatewayRecord, Presence, Region, RegionLevel, RegistryRepo, Site } from '../types.js';
import type { Db } from './open.js';
import { stmt } from './statements.js';

export class SqliteRegistryRepo implements RegistryRepo {
  constructor(private readonly db: Db) {}

  async upsertSite(s: { id: string; name: string; region?: string | null }): Promise<void> {
    stmt(
      this.db,
      `INSERT INTO sites (id, name, region, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, region = excluded.region`,
    ).run(s.id, s.name, s.region ?? null, Date.now());
  }

  async site(id: string): Promise<Site | null> {
    const r = stmt(this.db, 'SELECT * FROM sites WHERE id = ?').get(id) as
      | { id: string; name: string; region: string | null; created_at: number }
      | undefined;
    return r ? { id: r.id, name: r.name, region: r.region, createdAt: r.created_at } : null;
  }

  async sites(): Promise<Site[]> {
    const rows = stmt(this.db, 'SELECT * FROM sites ORDER BY id').all() as Array<{
      id: string;
      name: string;
      region: string | null;
      created_at: number;
    }>;
    return rows.map((r) => ({ id: r.id, name: r.name, region: r.region, createdAt: r.created_at }));
  }

  async putGateway(g: { id: string; siteId: string; secretHash: string }): Promise<void> {
    stmt(
      this.db,
      `INSERT INTO gateways (id, site_id, secret_hash, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET site_id = excluded.site_id, secret_hash = excluded.secret_hash`,
    ).run(g.id, g.siteId, g.secretHash, Date.now());
  }

  async gateway(id: string): Promise<GatewayRecord | null> {
    const r = stmt(this.db, 'SELECT * FROM gateways WHERE id = ?').get(id) as
      | { id: string; site_id: string; secret_hash: string; disabled: number }
      | undefined;
    return r ? { id: r.id, siteId: r.site_id, secretHash: r.secret_hash, disabled: r.disabled === 1 } : null;
  }

  async gateways(): Promise<GatewayRecord[]> {
    const rows = stmt(this.db, 'SELECT * FROM gateways ORDER BY id').all() as Array<{
      id: string;
      site_id: string;
      secret_hash: string;
      disabled: number;
    }>;
    return rows.map((r) => ({
      id: r.id,
      siteId: r.site_id,
      secretHash: r.secret_hash,
      disabled: r.disabled === 1,
    }));
  }

  async setPresence(p: Presence): Promise<void> {
    stmt(
      this.db,
      `INSERT INTO gateway_presence (gateway_id, site_id, state, changed_at, last_seen_at, last_heartbeat_at,
           heartbeat_interval_s, outbox_depth, reason)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(gateway_id) DO UPDATE SET site_id = excluded.site_id, state = excluded.state,
           changed_at = excluded.changed_at, last_seen_at = excluded.last_seen_at,
           last_heartbeat_at = excluded.last_heartbeat_at, heartbeat_interval_s = excluded.heartbeat_interval_s,
           outbox_depth = excluded.outbox_depth, reason = excluded.reason`,
    ).run(
      p.gatewayId,
      p.siteId,
      p.state,
      p.changedAt,
      p.lastSeenAt,
      p.lastHeartbeatAt,
      p.heartbeatIntervalS,
      p.outboxDepth,
      p.reason,
    );
  }

  async presence(): Promise<Presence[]> {
    const rows = stmt(this.db, 'SELECT * FROM gateway_presence').all() as Array<{
      gateway_id: string;
      site_id: string;
      state: 'online' | 'offline';
      changed_at: number;
      last_seen_at: number | null;
      last_heartbeat_at: number | null;
      heartbeat_interval_s: number | null;
      outbox_depth: number | null;
      reason: string | null;
    }>;
    return rows.map((r) => ({
      gatewayId: r.gateway_id,
      siteId: r.site_id,
      state: r.state,
      changedAt: r.changed_at,
      lastSeenAt: r.last_seen_at,
      lastHeartbeatAt: r.last_heartbeat_at,
      heartbeatIntervalS: r.heartbeat_interval_s,
      outboxDepth: r.outbox_depth,
      reason: r.reason,
    }));
  }

  async upsertRegion(r: Region): Promise<void> {
    stmt(
      this.db,
      `INSERT INTO regions (id, parent_id, name, level) VALUES (?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET parent_id = excluded.parent_id, name = excluded.name, level = excluded.level`,
    ).run(r.id, r.parentId, r.name, r.level);
  }

  async regions(): Promise<Region[]> {
    const rows = stmt(this.db, 'SELECT * FROM regions ORDER BY id').all() as Array<{
      id: string;
      parent_id: string | null;
      name: string;
      level: RegionLevel;
    }>;
    return rows.map((r) => ({ id: r.id, parentId: r.parent_id, name: r.name, level: r.level }));
  }

  async putInventory(siteId: string, body: unknown, at: number): Promise<void> {
    stmt(
      this.db,
      `INSERT INTO site_inventory (site_id, received_at, body) VALUES (?, ?, ?)
         ON CONFLICT(site_id) DO UPDATE SET received_at = excluded.received_at, body = excluded.body`,
    ).run(siteId, at, JSON.stringify(body));
  }

  async inventory(siteId: string): Promise<{ body: unknown; receivedAt: number } | null> {
    const r = stmt(this.db, 'SELECT * FROM site_inventory WHERE site_id = ?').get(siteId) as
      | { received_at: number; body: string }
      | undefined;
    return r ? { body: JSON.parse(r.body), receivedAt: r.received_at } : null;
  }
}
