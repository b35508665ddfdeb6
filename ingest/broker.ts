import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type Client, type PublishPacket } from 'aedes';
import type { CentralBus } from '../central/bus.js';
import { logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import {
  type Command,
  commandTopic,
  decodeCommandReply,
  decodeEnvelope,
  decodeInventory,
  decodeStatus,
  parseTopic,
} from '../protocol/index.js';
import type { RegistryRepo } from '../storage/types.js';
import { type GatewayIdentity, mayPublish, maySubscribe } from './acl.js';
import type { GatewayCredentials } from './credentials.js';
import type { IngestPipeline } from './pipeline/index.js';
import type { PresenceTracker } from './presence.js';

const log = logger('ingest:broker');

export interface BrokerConfig {
  host: string;
  port: number;
  tls?: { port: number; certFile: string; keyFile: string } | undefined;
}

class AuthError extends Error {
  constructor(
    message: string,
    readonly returnCode: number,
  ) {
    super(message);
  }
}

/**
 * The embedded MQTT endpoint. Ingest runs inside `authorizePublish`, which
 * aedes calls before it answers a QoS 1 PUBLISH: the gateway's PUBACK is
 * therefore sent only after the event is durable in the store.
 */
export class CentralBroker {
  private aedes: Aedes | undefined;
  private readonly servers: Server[] = [];
  private readonly identities = new WeakMap<Client, GatewayIdentity>();
  private readonly devices = new Map<string, Set<string>>();
  ports: { mqtt?: number; mqtts?: number } = {};

  constructor(
    private readonly deps: {
      config: BrokerConfig;
      credentials: GatewayCredentials;
      pipeline: IngestPipeline;
      presence: PresenceTracker;
      registry: RegistryRepo;
      metrics: Metrics;
      bus: CentralBus;
    },
  ) {}

  /** Devices declared in a site's inventory (undefined until one arrives). */
  devicesOf = (siteId: string): Set<string> | undefined => this.devices.get(siteId);

  async start(): Promise<void> {
    for (const site of await this.deps.registry.sites()) {
      const inv = await this.deps.registry.inventory(site.id);
      if (inv) this.rememberDevices(site.id, inv.body);
    }
    const aedes = await Aedes.createBroker({
      id: 'carewatch-central',
      authenticate: (client, username, password, done) =>
        void this.authenticate(client, username, password).then(
          () => done(null, true),
          (err: AuthError) => done(err as never, false),
        ),
      authorizePublish: (client, packet, cb) => void this.onPublish(client, packet).then(() => cb(null), cb),
      authorizeSubscribe: (client, sub, cb) => {
        const who = this.identities.get(client);
        const d = who ? maySubscribe(who, sub.topic) : { ok: false as const, reason: 'not authenticated' };
        if (d.ok) return cb(null, sub);
        this.denied(who, 'subscribe', d.reason);
        cb(null, null); // negative SUBACK (0x80), connection stays up
      },
    });
    this.aedes = aedes;
    aedes.on('client', (c) => {
      const who = this.identities.get(c);
      if (who) void this.deps.presence.seen(who);
      this.deps.metrics.gauge('carewatch_mqtt_clients', 'connected MQTT clients').inc();
    });
    aedes.on('clientDisconnect', () =>
      this.deps.metrics.gauge('carewatch_mqtt_clients', 'connected MQTT clients').dec(),
    );
    aedes.on('clientError', (c, err) => log.debug({ client: c?.id, err: err.message }, 'client error'));

    const { host, port, tls } = this.deps.config;
    this.ports.mqtt = await this.listen(createServer(aedes.handle), host, port);
    if (tls) {
      const server = createTlsServer(
        { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) },
        aedes.handle as never,
      );
      this.ports.mqtts = await this.listen(server, host, tls.port);
    }
    log.info({ host, ports: this.ports }, 'MQTT broker listening');
  }

  private listen(server: Server, host: string, port: number): Promise<number> {
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
    });
  }

  async stop(): Promise<void> {
    for (const s of this.servers) s.close();
    await new Promise<void>((r) => (this.aedes ? this.aedes.close(() => r()) : r()));
  }

  /** Sends a command to a site's gateway (QoS 1; queued while it is offline). */
  publishCommand(siteId: string, cmd: Command): Promise<void> {
    const aedes = this.aedes;
    if (!aedes) return Promise.reject(new Error('broker not started'));
    return new Promise((resolve, reject) =>
      aedes.publish(
        {
          cmd: 'publish',
          topic: commandTopic(siteId, cmd.name),
          payload: Buffer.from(JSON.stringify(cmd)),
          qos: 1,
          retain: false,
          dup: false,
        } as PublishPacket,
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }

  private async authenticate(client: Client, username?: string, password?: Buffer): Promise<void> {
    const fail = (reason: string, code: number) => {
      this.deps.metrics
        .counter('carewatch_mqtt_auth_failures_total', 'refused MQTT connections', ['reason'])
        .inc({
          reason,
        });
      log.warn({ client: client.id, username, reason }, 'connection refused');
      return new AuthError(reason, code);
    };
    if (!username || !password) throw fail('credentials_missing', 4);
    const who = await this.deps.credentials.verify(username, password);
    if (!who) throw fail('bad_credentials', 4);
    if (client.id !== who.gatewayId) throw fail('client_id_mismatch', 2);
    this.identities.set(client, who);
  }

  private denied(who: GatewayIdentity | undefined, action: string, reason: string): void {
    this.deps.metrics.counter('carewatch_mqtt_acl_denied_total', 'ACL refusals', ['action']).inc({ action });
    log.warn({ gateway: who?.gatewayId, action, reason }, 'ACL denied');
  }

  private async onPublish(client: Client | null, packet: PublishPacket): Promise<void> {
    const who = client ? this.identities.get(client) : undefined;
    if (!who) {
      // a will of a client that never authenticated: nothing to do with it
      if (!client) return;
      throw new Error('not authenticated');
    }
    const decision = mayPublish(who, packet.topic);
    if (!decision.ok) {
      this.denied(who, 'publish', decision.reason);
      throw new Error(decision.reason);
    }
    const topic = parseTopic(packet.topic)!;
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    if (topic.type === 'reply') return this.onReply(who, topic.command, payload);
    if (topic.type !== 'channel') return;
    switch (topic.channel) {
      case 'events': {
        const out = await this.deps.pipeline.handle(packet.topic, payload, who);
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
        return this.onTelemetry(who, packet.topic, payload);
      case 'status':
        return this.onStatus(who, payload);
      case 'inventory':
        return this.onInventory(who, packet.topic, payload);
    }
  }

  private async reject(who: GatewayIdentity, topic: string, code: string, message: string, payload: Buffer) {
    this.deps.metrics.counter('carewatch_ingest_rejected_total', 'payloads rejected', ['code']).inc({ code });
    await this.deps.pipeline.quarantine(who, topic, code, message, payload);
  }

  private async onTelemetry(who: GatewayIdentity, topic: string, payload: Buffer): Promise<void> {
    const d = decodeEnvelope(payload);
    if (!d.ok) return this.reject(who, topic, d.code, d.message, payload);
    if (d.value.siteId !== who.siteId) {
      return this.reject(
        who,
        topic,
        'SITE_MISMATCH',
        `/siteId: '${d.value.siteId}' is not ${who.siteId}`,
        payload,
      );
    }
    if (d.value.kind === 'gateway_heartbeat') {
      await this.deps.presence.heartbeat(who, d.value.data.intervalS, d.value.data.outboxDepth);
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
    const d = decodeInventory(payload);
    if (!d.ok) return this.reject(who, topic, d.code, d.message, payload);
    if (d.value.siteId !== who.siteId) {
      return this.reject(
        who,
        topic,
        'SITE_MISMATCH',
        `/siteId: '${d.value.siteId}' is not ${who.siteId}`,
        payload,
      );
    }
    await this.deps.registry.putInventory(who.siteId, d.value, Date.now());
    this.rememberDevices(who.siteId, d.value);
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
