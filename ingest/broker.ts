import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type Client, type PublishPacket } from 'aedes';
import { logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import { type Command, commandTopic } from '../protocol/index.js';
import { type GatewayIdentity, mayPublish, maySubscribe } from './acl.js';
import type { GatewayCredentials } from './credentials.js';
import type { PresenceTracker } from './presence.js';
import type { IngestRouter } from './router.js';

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
  ports: { mqtt?: number; mqtts?: number } = {};

  constructor(
    private readonly deps: {
      config: BrokerConfig;
      credentials: GatewayCredentials;
      router: IngestRouter;
      presence: PresenceTracker;
      metrics: Metrics;
    },
  ) {}

  async start(): Promise<void> {
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
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    await this.deps.router.handle(who, packet.topic, payload);
  }
}
