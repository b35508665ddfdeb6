import type { CentralBus } from '../central/bus.js';
import { logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import {
  decodeCommandReply,
  decodeEnvelope,
  decodeInventory,
  decodeStatus,
  type GatewayHeartbeatData,
  parseTopic,
} from '../protocol/index.js';
import type { RegistryRepo } from '../storage/types.js';
import type { GatewayIdentity } from './acl.js';
import type { IngestPipeline } from './pipeline/index.js';
import type { PresenceTracker } from './presence.js';

const log = logger('ingest:router');

/**
 * What a site topic means once the publisher is known to be allowed on it
 * (by the embedded broker's ACL or by an external broker's): events go
 * through the pipeline, telemetry and status feed presence, inventories are
 * kept, command replies go to whoever waits for them. Shared by the embedded
 * broker and the external-broker consumer.
 */
export class IngestRouter {
  private readonly devices = new Map<string, Set<string>>();

  constructor(
    private readonly deps: {
      pipeline: IngestPipeline;
      presence: PresenceTracker;
      registry: RegistryRepo;
      metrics: Metrics;
      bus: CentralBus;
      telemetry?: { heartbeat(siteId: string, gatewayId: string, data: GatewayHeartbeatData): void };
    },
  ) {}

  /** Loads the stored inventories, so unknown devices are recognised after a restart. */
  async start(): Promise<void> {
    for (const site of await this.deps.registry.sites()) {
      const inv = await this.deps.registry.inventory(site.id);
      if (inv) this.rememberDevices(site.id, inv.body);
    }
  }

  /** Devices declared in a site's inventory (undefined until one arrives). */
  devicesOf = (siteId: string): Set<string> | undefined => this.devices.get(siteId);

  async handle(who: GatewayIdentity, topicName: string, payload: Buffer): Promise<void> {
    const topic = parseTopic(topicName);
    if (!topic) return;
    if (topic.type === 'reply') return this.onReply(who, topic.command, payload);
    if (topic.type !== 'channel') return;
    switch (topic.channel) {
      case 'events': {
        const out = await this.deps.pipeline.handle(topicName, payload, who);
        if (out.status === 'accepted') {
          this.deps.bus.emit('event.stored', {
            envelope: out.envelope,
            gatewayId: who.gatewayId,
            receivedAt: Date.now(),
          });
        }
        return;
      }
      case 'telemetry':
        return this.onTelemetry(who, topicName, payload);
      case 'status':
        return this.onStatus(who, payload);
      case 'inventory':
        return this.onInventory(who, topicName, payload);
    }
  }

  private async reject(who: GatewayIdentity, topic: string, code: string, message: string, payload: Buffer) {
    this.deps.metrics.counter('carewatch_ingest_rejected_total', 'payloads rejected', ['code']).inc({ code });
    await this.deps.pipeline.quarantine(who, topic, code, message, payload);
  }

  /** Decodes a payload that must belong to the publisher's own site; quarantines it otherwise. */
  private async decodeOwn<T extends { siteId: string }>(
    who: GatewayIdentity,
    topic: string,
    payload: Buffer,
    decode: (p: Buffer) => { ok: true; value: T } | { ok: false; code: string; message: string },
  ): Promise<{ value: T } | null> {
    const d = decode(payload);
    if (!d.ok) {
      await this.reject(who, topic, d.code, d.message, payload);
      return null;
    }
    if (d.value.siteId !== who.siteId) {
      await this.reject(
        who,
        topic,
        'SITE_MISMATCH',
        `/siteId: '${d.value.siteId}' is not ${who.siteId}`,
        payload,
      );
      return null;
    }
    return d;
  }

  private async onTelemetry(who: GatewayIdentity, topic: string, payload: Buffer): Promise<void> {
    const d = await this.decodeOwn(who, topic, payload, decodeEnvelope);
    if (!d) return;
    if (d.value.kind === 'gateway_heartbeat') {
      await this.deps.presence.heartbeat(who, d.value.data.intervalS, d.value.data.outboxDepth);
      this.deps.telemetry?.heartbeat(who.siteId, who.gatewayId, d.value.data);
    }
  }

  private async onStatus(who: GatewayIdentity, payload: Buffer): Promise<void> {
    const d = decodeStatus(payload);
    if (!d.ok || d.value.siteId !== who.siteId) {
      log.warn({ gateway: who.gatewayId, reason: d.ok ? 'site mismatch' : d.message }, 'bad status ignored');
      return;
    }
    await this.deps.presence.status(who, d.value.state, d.value.reason ?? null);
  }

  private async onInventory(who: GatewayIdentity, topic: string, payload: Buffer): Promise<void> {
    const d = await this.decodeOwn(who, topic, payload, decodeInventory);
    if (!d) return;
    await this.deps.registry.putInventory(who.siteId, d.value, Date.now());
    this.rememberDevices(who.siteId, d.value);
    this.deps.bus.emit('inventory.updated', { siteId: who.siteId });
  }

  private rememberDevices(siteId: string, body: unknown): void {
    const devices = (body as { devices?: Array<{ deviceId: string }> }).devices ?? [];
    this.devices.set(siteId, new Set(devices.map((x) => x.deviceId)));
  }

  private async onReply(who: GatewayIdentity, command: string, payload: Buffer): Promise<void> {
    const d = decodeCommandReply(payload);
    if (!d.ok) return this.reject(who, `reply:${command}`, d.code, d.message, payload);
    this.deps.bus.emit('command.reply', { siteId: who.siteId, command, reply: d.value });
  }
}
