import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import { type Command, commandTopic, parseTopic, SITES_PREFIX } from '../protocol/index.js';
import type { RegistryRepo } from '../storage/types.js';
import type { GatewayIdentity } from './acl.js';
import type { IngestRouter } from './router.js';

const log = logger('ingest:external');

/** Upper bound of `consumers` (central/config.ts), and of the ids looked at for unused sessions. */
const MAX_CONSUMERS = 64;
/** An unused session counts as drained after this long without a message. */
const DRAIN_QUIET_MS = 1000;
/** ... and is left for the next start when it keeps delivering longer than this. */
const DRAIN_MAX_MS = 60_000;

export interface ExternalBrokerConfig {
  url: string;
  username?: string | undefined;
  clientId: string;
  shareGroup: string;
  caFile?: string | undefined;
  /**
   * Connections of this instance in the share group, each with its own
   * persistent session (`clientId`, then `clientId-1`, ...). MQTT.js hands a
   * connection its next message only after the previous one is committed, so
   * this many messages are in flight per instance.
   */
  consumers?: number | undefined;
}

/**
 * Ingest as a client of an external broker (Mosquitto, EMQX). The broker
 * authenticates gateways and enforces their ACL; several central instances
 * subscribe to the same topics through one MQTT shared subscription
 * (`$share/{group}/...`), so each message goes to one of them. Each message
 * is acknowledged to the broker (PUBACK) only after it has been handled —
 * an instance killed mid-way leaves the message unacknowledged in its
 * persistent session, and the store's primary key drops any redelivery.
 *
 * An instance opens `consumers` connections to the group: each one handles
 * a message at a time (the commit before the PUBACK), so they are what lets
 * one instance have several commits in flight, which the group commit then
 * batches. Commands go out on the first.
 */
export class ExternalIngest {
  private clients: MqttClient[] = [];
  private readonly gatewayOf = new Map<string, string>();
  /** Sites looked up in the registry after start (one lookup each, awaited by every consumer). */
  private readonly lookups = new Map<string, Promise<void>>();
  private readonly lookedUp = new Set<string>();
  ports: { mqtt?: number } = {};

  constructor(
    private readonly deps: {
      config: ExternalBrokerConfig;
      password: string | undefined;
      router: IngestRouter;
      registry: RegistryRepo;
      metrics: Metrics;
    },
  ) {}

  /** Topic filters this instance consumes, each as a shared subscription. */
  filters(): string[] {
    const g = this.deps.config.shareGroup;
    return ['events', 'telemetry', 'status', 'inventory', 'cmd/+/reply'].map(
      (c) => `$share/${g}/${SITES_PREFIX}+/${c}`,
    );
  }

  /** Client ids of this instance's connections: the configured one, then `-1`, `-2`, ... */
  clientIds(): string[] {
    const { clientId, consumers = 1 } = this.deps.config;
    return Array.from({ length: consumers }, (_, k) => (k === 0 ? clientId : `${clientId}-${k}`));
  }

  async start(): Promise<void> {
    await this.refreshGateways();
    for (const id of this.clientIds()) this.clients.push((await this.connect(id, true)).client);
    await this.retireUnused().catch((err: Error) =>
      log.warn({ err: err.message }, 'unused consumer sessions not retired; tried again at the next start'),
    );
    log.info(
      {
        url: this.deps.config.url,
        group: this.deps.config.shareGroup,
        clientIds: this.clientIds(),
      },
      'consuming from external broker',
    );
  }

  /**
   * Sessions of consumer ids above `consumers` (it was lowered): the broker
   * kept queueing a share of messages for them. Each is drained (what it
   * holds is handled like any message), unsubscribed and deleted, from
   * `{clientId}-{consumers}` up to the first id that has no session.
   */
  private async retireUnused(): Promise<void> {
    await this.retireSessions(Math.max(1, this.deps.config.consumers ?? 1));
  }

  /**
   * Takes this instance out of the share group for good, for an instance
   * that is being removed: the broker keeps giving a share of new messages to
   * every persistent session in the group, connected or not, so the
   * sessions of an instance that is simply switched off hold their share
   * until it comes back. Every session of this instance (`clientId`, then
   * `-1`, `-2`, ... up to the first id without one beyond `consumers`) is
   * drained, its messages handled and stored like any other, then deleted.
   * `carewatch central --retire` runs it; call instead of `start`.
   */
  async retire(): Promise<{ sessions: string[]; handled: number }> {
    await this.refreshGateways();
    return this.retireSessions(0);
  }

  private async retireSessions(from: number): Promise<{ sessions: string[]; handled: number }> {
    const { clientId, consumers = 1 } = this.deps.config;
    const report = { sessions: [] as string[], handled: 0 };
    for (let k = from; k < MAX_CONSUMERS; k++) {
      const id = k === 0 ? clientId : `${clientId}-${k}`;
      const c = await this.connect(id, false);
      if (c.sessionPresent) {
        await c.client.unsubscribeAsync(this.filters()); // no new share; what is queued still comes
        const deadline = Date.now() + DRAIN_MAX_MS;
        const draining = () => c.busy() || Date.now() - c.lastMessageAt() < DRAIN_QUIET_MS;
        while (draining() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        if (draining()) {
          await c.client.endAsync();
          throw new Error(`session ${id} still delivering after ${DRAIN_MAX_MS} ms`);
        }
        report.sessions.push(id);
        report.handled += c.handled();
        log.warn({ clientId: id, handled: c.handled() }, 'retired a consumer session after draining it');
      }
      await c.client.endAsync();
      // a clean connect deletes the session (the one just created too, when there was none)
      const gone = mqtt.connect(this.deps.config.url, {
        ...this.options(id),
        clean: true,
        reconnectPeriod: 0,
      });
      await new Promise<void>((resolve, reject) => {
        gone.once('connect', () => resolve());
        gone.once('error', reject);
      });
      await gone.endAsync();
      // the configured ids are all looked at; past them, up to the first without a session
      if (!c.sessionPresent && k >= Math.max(1, consumers)) return report;
    }
    return report;
  }

  private options(clientId: string): IClientOptions {
    const { config, password } = this.deps;
    return {
      clientId,
      clean: false,
      // back before the gateways (1 s): after a broker restart their messages find the group subscribed again
      reconnectPeriod: 250,
      keepalive: 30,
      ...(config.username ? { username: config.username } : {}),
      ...(password ? { password } : {}),
      ...(config.caFile ? { ca: readFileSync(config.caFile) } : {}),
    };
  }

  private async connect(
    clientId: string,
    subscribe: boolean,
  ): Promise<{
    client: MqttClient;
    sessionPresent: boolean;
    busy: () => boolean;
    lastMessageAt: () => number;
    handled: () => number;
  }> {
    const { router } = this.deps;
    let inHandler = 0;
    /** This side dropped the connection (a message it could not handle): the broker kept running. */
    let droppedHere = false;
    let handled = 0;
    let lastMessageAt = Date.now();
    const client = mqtt.connect(this.deps.config.url, this.options(clientId));
    // MQTT.js sends a QoS 1 PUBACK only after handleMessage calls back (and
    // reads the next packet only then): the acknowledgement follows the commit
    client.handleMessage = (packet, callback) => {
      if (packet.cmd !== 'publish') return callback();
      lastMessageAt = Date.now();
      const topic = packet.topic;
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      const who = this.identity(topic);
      if (who && !this.gatewayOf.has(who.siteId)) {
        // a site provisioned after start: looked up once; the other consumers wait for that lookup
        let lookup = this.lookups.get(who.siteId);
        if (!lookup) {
          lookup = this.refreshGateways().catch((err: Error) =>
            log.warn({ err: err.message, site: who.siteId }, 'gateway lookup failed'),
          );
          this.lookups.set(who.siteId, lookup);
        }
        if (!this.lookedUp.has(who.siteId)) {
          inHandler++;
          void lookup.then(() => {
            inHandler--;
            this.lookedUp.add(who.siteId);
            client.handleMessage(packet, callback);
          });
          return;
        }
      }
      if (!who) {
        log.warn({ topic }, 'message outside the carewatch site topics ignored');
        return callback();
      }
      inHandler++;
      router.handle(who, topic, payload).then(
        () => {
          inHandler--;
          handled++;
          lastMessageAt = Date.now();
          callback();
        },
        (err: Error) => {
          inHandler--;
          // not acknowledged: the broker delivers it again after a reconnect
          this.deps.metrics.counter('carewatch_ingest_errors_total', 'messages not handled').inc();
          log.error(
            { err, topic, clientId },
            'message not handled; dropping the connection so the broker redelivers it',
          );
          droppedHere = true;
          client.stream.destroy();
        },
      );
    };
    client.on('error', (err) => log.warn({ err: err.message, clientId }, 'broker connection error'));
    let sessionPresent = false;
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', (connack) => {
          sessionPresent = connack.sessionPresent;
          resolve();
        });
        client.once('error', reject);
      });
      if (subscribe) {
        // Renewed whenever the broker kept the session and may have restarted since: Mosquitto 2.0
        // restores a persistent session after a restart without its shared subscriptions, yet answers
        // "session present", so the instance heard nothing again while the gateways' messages found no
        // subscriber (measured: every call after a broker restart lost, tests/scale/broker-restart).
        // Not after a drop of our own (the broker kept the subscription): renewing then leaves the
        // group without this member for a moment, and while the store is down every consumer
        // drops and comes back again and again (tests/scale/store-outage lost calls that way).
        await this.subscribe(client, sessionPresent);
        client.on('connect', (connack) => {
          const renew = connack.sessionPresent && !droppedHere;
          droppedHere = false;
          if (!renew && connack.sessionPresent) return;
          this.subscribe(client, renew).then(
            () => log.info({ clientId, renewed: renew }, 'reconnected to the broker; subscribed'),
            (err: Error) => {
              this.deps.metrics
                .counter(
                  'carewatch_ingest_resubscribe_failures_total',
                  'subscriptions not renewed after a reconnect',
                )
                .inc();
              log.error(
                { err: err.message, clientId },
                'subscriptions not renewed after a reconnect; reconnecting',
              );
              client.stream.destroy(); // not droppedHere: the next connect renews again
            },
          );
        });
      }
    } catch (err) {
      client.end(true);
      throw err;
    }
    return {
      client,
      sessionPresent,
      busy: () => inHandler > 0,
      lastMessageAt: () => lastMessageAt,
      handled: () => handled,
    };
  }

  /**
   * Subscribes the group filters. `renew`: unsubscribe first. A SUBSCRIBE for a filter the session
   * holds already changes nothing in Mosquitto, not even a shared subscription it lost in a restart
   * (and MQTT.js does not send one for a filter it has seen subscribed); an UNSUBSCRIBE keeps what
   * is queued for the session, and the SUBSCRIBE after it puts the session back in the group.
   */
  private async subscribe(client: MqttClient, renew: boolean): Promise<void> {
    if (renew) await client.unsubscribeAsync(this.filters());
    const granted = await client.subscribeAsync(this.filters(), { qos: 1 });
    const refused = granted.filter((g) => g.qos === 128);
    if (refused.length)
      throw new Error(`broker refused subscriptions: ${refused.map((g) => g.topic).join(', ')}`);
  }

  private async refreshGateways(): Promise<void> {
    for (const g of await this.deps.registry.gateways()) {
      if (!g.disabled && !this.gatewayOf.has(g.siteId)) this.gatewayOf.set(g.siteId, g.id);
    }
  }

  /**
   * The broker's ACL already proved the publisher may write this site's
   * topics; the gateway id is taken from the registry for the records.
   */
  private identity(topic: string): GatewayIdentity | null {
    const t = parseTopic(topic);
    if (!t) return null;
    return { siteId: t.siteId, gatewayId: this.gatewayOf.get(t.siteId) ?? `site:${t.siteId}` };
  }

  publishCommand(siteId: string, cmd: Command): Promise<void> {
    const c = this.clients[0];
    if (!c) return Promise.reject(new Error('not connected'));
    return c
      .publishAsync(commandTopic(siteId, cmd.name), JSON.stringify(cmd), { qos: 1 })
      .then(() => undefined);
  }

  async stop(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.endAsync()));
  }
}
