import type { PresenceNotice } from '../central/bus.js';
import type { Clock } from '../lib/clock.js';
import type { EventBus } from '../lib/event-bus.js';
import { logger } from '../lib/logger.js';
import type { Presence, RegistryRepo } from '../storage/types.js';
import type { GatewayIdentity } from './acl.js';

const log = logger('ingest:presence');

/**
 * Gateway online/offline, from three signals: the retained status topic
 * (with the last will saying offline), the connection itself, and heartbeats.
 * A gateway whose heartbeat is overdue by `missedFactor` intervals is offline
 * even if its TCP connection looks alive.
 */
export class PresenceTracker {
  private readonly state = new Map<string, Presence>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: {
      registry: RegistryRepo;
      bus: Pick<EventBus<{ 'gateway.presence': PresenceNotice }>, 'emit'>;
      clock: Clock;
      missedFactor?: number;
      checkEveryMs?: number;
    },
  ) {}

  async start(): Promise<void> {
    for (const p of await this.deps.registry.presence()) this.state.set(p.gatewayId, p);
    this.timer = setInterval(() => void this.checkHeartbeats(), this.deps.checkEveryMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
  }

  all(): Presence[] {
    return [...this.state.values()];
  }

  private current(who: GatewayIdentity): Presence {
    return (
      this.state.get(who.gatewayId) ?? {
        gatewayId: who.gatewayId,
        siteId: who.siteId,
        state: 'offline',
        changedAt: this.deps.clock.now(),
        lastSeenAt: null,
        lastHeartbeatAt: null,
        heartbeatIntervalS: null,
        outboxDepth: null,
        reason: null,
      }
    );
  }

  async seen(who: GatewayIdentity): Promise<void> {
    const p = this.current(who);
    this.state.set(who.gatewayId, { ...p, lastSeenAt: this.deps.clock.now() });
  }

  async status(who: GatewayIdentity, state: 'online' | 'offline', reason: string | null): Promise<void> {
    await this.set(who, state, reason);
  }

  async heartbeat(who: GatewayIdentity, intervalS: number, outboxDepth: number): Promise<void> {
    const now = this.deps.clock.now();
    const p = {
      ...this.current(who),
      lastSeenAt: now,
      lastHeartbeatAt: now,
      heartbeatIntervalS: intervalS,
      outboxDepth,
    };
    this.state.set(who.gatewayId, p);
    if (p.state !== 'online') await this.set(who, 'online', 'heartbeat');
    else await this.store(p);
  }

  async checkHeartbeats(): Promise<void> {
    const now = this.deps.clock.now();
    const factor = this.deps.missedFactor ?? 3;
    for (const p of this.state.values()) {
      if (p.state !== 'online' || !p.lastHeartbeatAt || !p.heartbeatIntervalS) continue;
      if (now - p.lastHeartbeatAt > factor * p.heartbeatIntervalS * 1000) {
        await this.set({ gatewayId: p.gatewayId, siteId: p.siteId }, 'offline', 'heartbeat_missed');
      }
    }
  }

  /** Presence is a cache of what the gateway says: failing to store it must not stop ingest. */
  private async store(p: Presence): Promise<void> {
    try {
      await this.deps.registry.setPresence(p);
    } catch (err) {
      log.error({ err, gateway: p.gatewayId }, 'presence not stored');
    }
  }

  private async set(who: GatewayIdentity, state: 'online' | 'offline', reason: string | null): Promise<void> {
    const now = this.deps.clock.now();
    const prev = this.current(who);
    const changed = prev.state !== state || !this.state.has(who.gatewayId);
    const next: Presence = {
      ...prev,
      siteId: who.siteId,
      state,
      reason,
      changedAt: changed ? now : prev.changedAt,
      lastSeenAt: state === 'online' ? now : prev.lastSeenAt,
    };
    this.state.set(who.gatewayId, next);
    await this.store(next);
    if (changed) {
      log.info({ gateway: who.gatewayId, site: who.siteId, state, reason }, 'gateway presence');
      this.deps.bus.emit('gateway.presence', {
        gatewayId: who.gatewayId,
        siteId: who.siteId,
        state,
        at: now,
        reason,
      });
    }
  }
}
