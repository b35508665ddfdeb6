import { join } from 'node:path';
import { logger } from '../lib/logger.js';
import { Metrics } from '../lib/metrics.js';
import {
  buildEnvelope,
  type Inventory,
  type InventoryDevice,
  mintId,
  PROTOCOL_VERSION,
  siteTopic,
} from '../protocol/index.js';
import { type Db, openDatabase } from '../storage/sqlite/open.js';
import { AttendanceAdapter } from './adapters/attendance.js';
import { ButtonAdapter } from './adapters/buttons.js';
import { CameraModule } from './adapters/cameras.js';
import { FireSystemAdapter } from './adapters/fire-systems.js';
import { PanelAdapter } from './adapters/panels.js';
import { CommandRouter } from './commands.js';
import type { GatewayConfig } from './config.js';
import { LocalBus } from './local-bus.js';
import { MediaModule } from './media/media-module.js';
import { OpsServer } from './ops-server.js';
import { Outbox } from './outbox.js';
import { Uplink } from './uplink.js';

const log = logger('gateway');
export const GATEWAY_VERSION = '0.1.0';

/**
 * The site gateway: a thin controller over its modules. Devices reach it on
 * the local bus; adapters turn what they say into events in the durable
 * outbox; the uplink drains the outbox to the central.
 */
export class Gateway {
  readonly metrics = new Metrics({ defaults: true });
  db!: Db;
  outbox!: Outbox;
  uplink!: Uplink;
  localBus!: LocalBus;
  buttons!: ButtonAdapter;
  attendance!: AttendanceAdapter;
  panels: PanelAdapter | undefined;
  fireSystems: FireSystemAdapter | undefined;
  cameras: CameraModule | undefined;
  media: MediaModule | undefined;
  private inventoryTimer: NodeJS.Timeout | undefined;
  commands!: CommandRouter;
  ops: OpsServer | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();

  constructor(
    private readonly config: GatewayConfig,
    private readonly password: string,
  ) {}

  async start(): Promise<void> {
    const { config, metrics } = this;
    this.db = openDatabase(join(config.dataDir, 'gateway.db'), { synchronous: 'FULL' });
    this.outbox = new Outbox(this.db, config.siteId, () => this.uplink?.connected === true);
    this.buttons = new ButtonAdapter({ config: config.buttons, outbox: this.outbox, metrics });
    this.attendance = new AttendanceAdapter({
      devices: config.attendance.devices,
      outbox: this.outbox,
      metrics,
    });
    if (config.dc09) this.panels = new PanelAdapter({ config: config.dc09, outbox: this.outbox, metrics });
    if (config.cameras) {
      this.cameras = new CameraModule({
        config: config.cameras,
        db: this.db,
        outbox: this.outbox,
        metrics,
        changed: () => this.inventorySoon(),
      });
    }
    this.uplink = new Uplink({ config, password: this.password, outbox: this.outbox, metrics });
    this.commands = new CommandRouter({
      siteId: config.siteId,
      reply: (topic, payload) => this.uplink.publishTelemetry(topic, payload, { qos: 1 }),
    });
    if (config.gb26875) {
      this.fireSystems = new FireSystemAdapter({
        config: config.gb26875,
        outbox: this.outbox,
        metrics,
        commands: this.commands,
      });
    }
    this.uplink.onCommand = (topic, payload) => void this.commands.handle(topic, payload);
    this.uplink.onConnect = () => this.publishInventory();
    this.localBus = new LocalBus({
      host: config.localBus.host,
      port: config.localBus.port,
      handler: (topic, payload) =>
        this.attendance.claims(topic)
          ? this.attendance.handle(topic, payload)
          : this.buttons.handle(topic, payload),
    });

    await this.uplink.start();
    await this.localBus.start();
    await this.panels?.start();
    await this.fireSystems?.start();
    await this.cameras?.start();
    if (this.cameras) {
      const cams = this.cameras;
      cams.registerCommands(this.commands);
      const camerasConfig = config.cameras!;
      this.media = new MediaModule({
        config: camerasConfig,
        dataDir: config.dataDir,
        db: this.db,
        outbox: this.outbox,
        commands: this.commands,
        metrics,
        upload: config.central.httpUrl
          ? {
              httpUrl: config.central.httpUrl,
              siteId: config.siteId,
              gatewayId: config.gatewayId,
              password: this.password,
              caFile: config.central.caFile,
              rejectUnauthorized: config.central.rejectUnauthorized,
            }
          : undefined,
        source: (id) => {
          const r = cams.resolvedCamera(id);
          const t = camerasConfig.devices.find((d) => d.deviceId === id)?.transport;
          return r ? { ...r, ...(t ? { transport: t } : {}) } : undefined;
        },
      });
      await this.media.start();
      // footage ages: the camera report is refreshed even when nothing else changes
      this.inventoryTimer = setInterval(() => this.publishInventory(), 5 * 60_000);
      this.inventoryTimer.unref();
    }
    if (config.metrics) {
      this.ops = new OpsServer({ ...config.metrics, metrics, ready: () => this.uplink.connected });
      await this.ops.start();
    }
    this.heartbeat = setInterval(() => this.sendHeartbeat(), config.heartbeatIntervalS * 1000);
    this.heartbeat.unref();
    const { depth } = this.outbox.stats();
    log.info(
      { site: config.siteId, gateway: config.gatewayId, outbox: depth, localBus: this.localBus.port },
      'gateway started',
    );
  }

  devices(): InventoryDevice[] {
    return [
      ...this.buttons.inventory(),
      ...this.attendance.inventory(),
      ...(this.panels?.inventory() ?? []),
      ...(this.fireSystems?.inventory() ?? []),
      ...(this.cameras?.inventory() ?? []),
      ...(this.config.cameras ? [{ deviceId: this.config.cameras.siteDeviceId, type: 'recorder' }] : []),
    ];
  }

  private inventoryPending: NodeJS.Timeout | undefined;

  /** Coalesces bursts of changes into one inventory a second later. */
  private inventorySoon(): void {
    if (this.inventoryPending) return;
    this.inventoryPending = setTimeout(() => {
      this.inventoryPending = undefined;
      this.publishInventory();
    }, 1000);
    this.inventoryPending.unref();
  }

  private publishInventory(): void {
    const inv: Inventory = {
      v: PROTOCOL_VERSION,
      siteId: this.config.siteId,
      gatewayId: this.config.gatewayId,
      ts: new Date().toISOString(),
      devices: this.devices(),
    };
    this.uplink.publishTelemetry(
      siteTopic(this.config.siteId, 'inventory'),
      Buffer.from(JSON.stringify(inv)),
      {
        qos: 1,
        retain: true,
      },
    );
    this.sendHeartbeat();
  }

  private sendHeartbeat(): void {
    const { depth, oldestAgeS } = this.outbox.stats();
    this.metrics.gauge('carewatch_gateway_outbox_depth', 'events waiting for the central').set(depth);
    const env = buildEnvelope({
      kind: 'gateway_heartbeat',
      siteId: this.config.siteId,
      deviceId: this.config.gatewayId,
      seq: 0,
      id: mintId(),
      data: {
        uptimeS: (Date.now() - this.startedAt) / 1000,
        intervalS: this.config.heartbeatIntervalS,
        outboxDepth: depth,
        ...(oldestAgeS !== null ? { outboxOldestAgeS: oldestAgeS } : {}),
        version: GATEWAY_VERSION,
      },
    });
    this.uplink.publishTelemetry(
      siteTopic(this.config.siteId, 'telemetry'),
      Buffer.from(JSON.stringify(env)),
    );
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.ops?.stop();
    if (this.inventoryTimer) clearInterval(this.inventoryTimer);
    await this.media?.stop();
    await this.cameras?.stop();
    await this.fireSystems?.stop();
    await this.panels?.stop();
    await this.localBus?.stop();
    await this.uplink?.stop();
    this.outbox?.flushNow();
    this.db?.close();
    log.info('gateway stopped');
  }
}
