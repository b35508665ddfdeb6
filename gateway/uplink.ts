import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import { commandFilter, type GatewayStatus, PROTOCOL_VERSION, siteTopic } from '../protocol/index.js';
import type { GatewayConfig } from './config.js';
import type { Outbox } from './outbox.js';

const log = logger('gateway:uplink');

/**
 * The link to the central: an MQTT.js client with a persistent session and a
 * last will, and a drain loop that keeps up to `inflight` outbox entries
 * published at QoS 1. An entry leaves the outbox only in the PUBACK callback.
 */
export class Uplink {
  private client: MqttClient | undefined;
  private readonly inflight = new Map<number, number>(); // outbox seq -> sent at
  private draining = false;
  private stopped = true;
  private offAdded: (() => void) | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  onCommand: ((topic: string, payload: Buffer) => void) | undefined;
  onConnect: (() => void) | undefined;
  sent = 0;
  acked = 0;

  constructor(
    private readonly deps: {
      config: GatewayConfig;
      password: string;
      outbox: Outbox;
      metrics: Metrics;
    },
  ) {}

  get connected(): boolean {
    return this.client?.connected === true;
  }

  private status(state: 'online' | 'offline', reason?: string): Buffer {
    const { siteId, gatewayId } = this.deps.config;
    const s: GatewayStatus = {
      v: PROTOCOL_VERSION,
      siteId,
      gatewayId,
      state,
      ts: new Date().toISOString(),
      ...(reason ? { reason } : {}),
    };
    return Buffer.from(JSON.stringify(s));
  }

  async start(): Promise<void> {
    const { config, password } = this.deps;
    this.stopped = false;
    const opts: IClientOptions = {
      clientId: config.gatewayId,
      username: config.gatewayId,
      password,
      clean: false,
      keepalive: config.central.keepaliveS,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      queueQoSZero: false,
      rejectUnauthorized: config.central.rejectUnauthorized,
      will: {
        topic: siteTopic(config.siteId, 'status'),
        payload: this.status('offline', 'connection lost'),
        qos: 1,
        retain: true,
      },
      ...(config.central.caFile ? { ca: readFileSync(config.central.caFile) } : {}),
    };
    const client = mqtt.connect(config.central.url, opts);
    this.client = client;
    client.on('connect', () => {
      log.info({ url: config.central.url }, 'connected to central');
      this.deps.metrics.gauge('carewatch_gateway_uplink_connected', 'uplink connected').set(1);
      client.publish(siteTopic(config.siteId, 'status'), this.status('online'), { qos: 1, retain: true });
      client.subscribe(commandFilter(config.siteId), { qos: 1 }, (err, granted) => {
        if (err || granted?.some((g) => g.qos === 128)) log.error({ err }, 'command subscription refused');
      });
      this.onConnect?.();
      void this.drain();
    });
    client.on('close', () =>
      this.deps.metrics.gauge('carewatch_gateway_uplink_connected', 'uplink connected').set(0),
    );
    client.on('error', (err) => log.warn({ err: err.message }, 'uplink error'));
    client.on('message', (topic, payload) => this.onCommand?.(topic, payload));
    this.offAdded = this.deps.outbox.onAdded(() => void this.drain());
    // an entry published but never answered (lost on a dead link) is offered again
    this.watchdog = setInterval(() => this.expireInflight(60_000), 10_000);
    this.watchdog.unref();
  }

  private expireInflight(maxAgeMs: number): void {
    if (!this.connected) return;
    const now = Date.now();
    let expired = 0;
    for (const [seq, at] of this.inflight) {
      if (now - at > maxAgeMs) {
        this.inflight.delete(seq);
        expired++;
      }
    }
    if (expired) {
      log.warn({ expired }, 'unanswered publishes offered again');
      void this.drain();
    }
  }

  /** Fills the in-flight window from the outbox, alarm lane first. */
  async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      const client = this.client;
      const { outbox, config } = this.deps;
      while (!this.stopped && client?.connected) {
        const room = config.central.inflight - this.inflight.size;
        if (room <= 0) break;
        const batch = outbox.peek(room, new Set(this.inflight.keys()));
        if (batch.length === 0) break;
        for (const e of batch) {
          this.inflight.set(e.seq, Date.now());
          this.sent++;
          client.publish(e.topic, e.payload, { qos: 1 }, (err) => {
            if (err) {
              // not acknowledged: stays in the outbox and is offered again
              this.inflight.delete(e.seq);
              return;
            }
            if (this.inflight.delete(e.seq)) {
              outbox.remove(e.seq);
              this.acked++;
            }
            void this.drain();
          });
        }
      }
    } finally {
      this.draining = false;
    }
  }

  publishTelemetry(
    topic: string,
    payload: Buffer,
    opts: { qos: 0 | 1; retain?: boolean } = { qos: 0 },
  ): void {
    if (this.client?.connected)
      this.client.publish(topic, payload, { qos: opts.qos, retain: opts.retain ?? false });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.offAdded?.();
    if (this.watchdog) clearInterval(this.watchdog);
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      await new Promise<void>((r) =>
        client.publish(
          siteTopic(this.deps.config.siteId, 'status'),
          this.status('offline', 'shutdown'),
          { qos: 1, retain: true },
          () => r(),
        ),
      );
    }
    await client.endAsync();
  }
}
