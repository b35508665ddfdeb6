import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { AccidentService, emitOnBus as accidentEmit } from '../alerts/accidents/index.js';
import { AlertService } from '../alerts/alert-service.js';
import { FireRoomService } from '../alerts/fire-room/service.js';
import { type HazardService, emitOnBus as hazardEmit } from '../alerts/hazards/index.js';
import { createChannels, NotificationDispatcher, parseNotifyConfig } from '../alerts/notify/index.js';
import { dashboardApp } from '../dashboard/app.js';
import { Sessions } from '../dashboard/auth.js';
import { WsHub } from '../dashboard/ws-hub.js';
import { CentralBroker } from '../ingest/broker.js';
import { GatewayCredentials } from '../ingest/credentials.js';
import { ExternalIngest } from '../ingest/external.js';
import { IngestPipeline } from '../ingest/pipeline/index.js';
import { PresenceTracker } from '../ingest/presence.js';
import { IngestRouter } from '../ingest/router.js';
import { type Clock, systemClock } from '../lib/clock.js';
import { ConfigError } from '../lib/errors.js';
import { logger } from '../lib/logger.js';
import { Metrics } from '../lib/metrics.js';
import { openCentralStore } from '../storage/open-store.js';
import { openSafetyStore, type SafetyStore } from '../storage/safety-store.js';
import { createTimeSeries, TelemetryRecorder, type TimeSeries } from '../storage/timeseries/index.js';
import type { CentralStore } from '../storage/types.js';
import { createCentralBus } from './bus.js';
import { CommandService } from './commands.js';
import type { CentralConfig } from './config.js';
import { CoverageService } from './coverage.js';
import { LiveHazardService } from './live-hazards.js';
import { type MediaStore, openMediaStore } from './media/store.js';
import { UnprocessedSweeper } from './redeliver.js';

const log = logger('central');

export function centralDbPath(config: Pick<CentralConfig, 'dataDir'>): string {
  return join(config.dataDir, 'central.db');
}

/**
 * The central process: store, ingest (broker + pipeline + presence), alerts
 * and the HTTP/WebSocket API. A thin controller: modules start in dependency
 * order and stop in reverse.
 */
const RETIRE_EMBEDDED =
  '--retire: only an instance on an external broker (/mqtt/mode: external) has broker sessions to retire';

export class Central {
  readonly metrics = new Metrics({ defaults: true });
  readonly bus = createCentralBus();
  store!: CentralStore;
  broker!: CentralBroker | ExternalIngest;
  router!: IngestRouter;
  series!: TimeSeries;
  telemetry!: TelemetryRecorder;
  alerts!: AlertService;
  presence!: PresenceTracker;
  http!: FastifyInstance;
  hub!: WsHub;
  commands!: CommandService;
  fireRoom!: FireRoomService;
  coverage!: CoverageService;
  notifier: NotificationDispatcher | undefined;
  accidents!: AccidentService;
  hazards!: HazardService;
  media!: MediaStore;
  private mediaPrune: NodeJS.Timeout | undefined;
  private safety: SafetyStore | undefined;
  private sweeper: UnprocessedSweeper | undefined;
  private ready = false;
  ports: { mqtt?: number; mqtts?: number; http?: number } = {};

  /** What `--retire` did: the sessions drained and deleted, the messages they held. */
  retired: { sessions: string[]; handled: number } | undefined;

  constructor(
    private readonly config: CentralConfig,
    private readonly clock: Clock = systemClock,
    /** `retire`: take this instance out of the external broker's share group for good, then stop. */
    private readonly options: { retire?: boolean } = {},
  ) {}

  async start(): Promise<void> {
    const { config, clock, metrics, bus } = this;
    if (this.options.retire && config.mqtt.mode !== 'external') throw new ConfigError(RETIRE_EMBEDDED);
    this.store = await openCentralStore({ dataDir: config.dataDir, postgresUrl: config.storage.postgresUrl });
    const store = this.store;
    this.series = createTimeSeries(config.timeseries, { dataDir: config.dataDir, clock, metrics });
    await this.series.start();
    this.telemetry = new TelemetryRecorder({ bus, series: this.series, clock, metrics });
    this.telemetry.start();
    this.presence = new PresenceTracker({
      registry: store.registry,
      bus,
      clock,
      missedFactor: config.presence.missedHeartbeats,
    });
    this.alerts = new AlertService({
      alerts: store.alerts,
      events: store.events,
      silences: store.silences,
      bus,
      clock,
      metrics,
      escalation: config.alerts.escalation,
      rules: config.alerts.rules,
      // behind a shared subscription one device's events may be stored out of order
      reorderWindowMs: config.mqtt.mode === 'external' ? config.alerts.reorderWindowS * 1000 : 0,
      // attendance and post-check answers are committed by the fire room before their events count as processed
      unappliedElsewhere: (ids) => this.fireRoom.unapplied(ids),
    });
    let router: IngestRouter | undefined;
    const pipeline = new IngestPipeline({
      events: store.events,
      metrics,
      devicesOf: (s) => router?.devicesOf(s),
    });
    router = new IngestRouter({
      pipeline,
      presence: this.presence,
      registry: store.registry,
      metrics,
      bus,
      telemetry: this.telemetry,
    });
    this.router = router;
    const ext = config.mqtt.external;
    this.broker =
      config.mqtt.mode === 'external' && ext
        ? new ExternalIngest({
            config: { ...ext, clientId: process.env.CAREWATCH_MQTT_CLIENT_ID ?? ext.clientId },
            password: process.env.CAREWATCH_MQTT_PASSWORD,
            router,
            registry: store.registry,
            metrics,
          })
        : new CentralBroker({
            config: config.mqtt,
            credentials: new GatewayCredentials(store.registry),
            router,
            presence: this.presence,
            metrics,
          });
    this.hub = new WsHub({ bus, metrics });
    this.commands = new CommandService({
      repo: store.commands,
      bus,
      publish: (siteId, cmd) => this.broker.publishCommand(siteId, cmd),
    });

    this.fireRoom = new FireRoomService({
      repo: store.fireRoom,
      events: store.events,
      alerts: this.alerts,
      bus,
      clock,
      postCheckDeadlineS: config.fireRoom.postCheckDeadlineS,
      tickMs: config.fireRoom.checkEveryS * 1000,
      notifyGateway: async (siteId, check) => {
        await this.commands.send(
          siteId,
          'post_check',
          { checkId: check.id, deadlineS: Math.round((check.deadlineAt - check.issuedAt) / 1000) },
          { actor: check.issuedBy, timeoutMs: 10_000 },
        );
      },
    });

    await this.presence.start();
    await this.router.start();
    // before the alert service's recovery, which marks the events it replays processed
    await this.fireRoom.recover();
    await this.alerts.start();
    this.hub.start();
    this.commands.start();
    await this.fireRoom.start();
    const redeliverMs = config.alerts.redeliverAfterS * 1000;
    this.sweeper = new UnprocessedSweeper({
      events: store.events,
      bus,
      clock,
      metrics,
      holds: (id) => this.alerts.holds(id),
      afterMs: redeliverMs,
      everyMs: Math.min(60_000, redeliverMs / 2),
    });
    this.sweeper.start();
    this.coverage = new CoverageService({
      registry: store.registry,
      presence: () => this.presence.all(),
      alerts: this.alerts,
      bus,
      clock,
    });
    await this.coverage.start();
    // accidents, the hazard ledger and the notification log live where the central store does:
    // in its PostgreSQL database (shared by all instances), else in SQLite files of the data directory
    const safety = await openSafetyStore({
      dataDir: config.dataDir,
      postgresUrl: config.storage.postgresUrl,
      instanceId: process.env.CAREWATCH_MQTT_CLIENT_ID ?? config.mqtt.external?.clientId,
    });
    this.safety = safety;
    this.accidents = new AccidentService({
      repo: safety.accidents,
      clock,
      alerts: store.alerts,
      emit: accidentEmit(bus),
    });
    await this.accidents.start();
    this.hazards = new LiveHazardService(
      {
        repo: safety.hazards,
        clock,
        alerts: store.alerts,
        bus,
        emit: hazardEmit(bus),
      },
      (hazard, change) => this.hub.hazardChanged(hazard, change),
    );
    await this.hazards.start();
    if (config.notify !== undefined) {
      const notify = parseNotifyConfig(config.notify, 'notify');
      const log = safety.notifyLog();
      this.notifier = new NotificationDispatcher({
        config: notify,
        channels: createChannels(notify, { clock }),
        log,
        bus,
        clock,
        metrics,
        escalation: config.alerts.escalation,
      });
      await this.notifier.start();
    }
    this.media = await openMediaStore({ dataDir: config.dataDir, postgresUrl: config.storage.postgresUrl });
    this.mediaPrune = setInterval(() => void this.pruneMedia(), 3_600_000);
    this.mediaPrune.unref();
    void this.pruneMedia();
    if (this.options.retire) {
      if (!(this.broker instanceof ExternalIngest)) throw new ConfigError(RETIRE_EMBEDDED);
      // what the sessions held is stored and applied like any message; nobody is served
      this.retired = await this.broker.retire();
      await this.fireRoom.idle();
      await this.alerts.idle();
      log.info(this.retired, 'instance retired from the share group');
      return;
    }
    await this.broker.start();
    this.http = Fastify({ logger: false, bodyLimit: 64 * 1024 });
    await this.http.register(dashboardApp, {
      store,
      alerts: this.alerts,
      commands: this.commands,
      series: this.series,
      fireRoom: this.fireRoom,
      coverage: this.coverage,
      accidents: this.accidents,
      hazards: this.hazards,
      sessions: new Sessions(store.users, store.registry),
      hub: this.hub,
      presence: this.presence,
      metrics,
      ready: () => this.ready,
      secureCookies: config.http.secureCookies,
      media: this.media,
      credentials: new GatewayCredentials(store.registry),
      maxUploadBytes: config.media.maxUploadMiB * 1024 * 1024,
    });
    await this.http.listen({ host: config.http.host, port: config.http.port });
    const addr = this.http.server.address();
    this.ports = {
      ...this.broker.ports,
      http: typeof addr === 'object' && addr ? addr.port : config.http.port,
    };
    this.ready = true;
    log.info({ ports: this.ports, dataDir: config.dataDir }, 'central started');
  }

  /** Drops uploaded clips and snapshots older than `media.keepDays`. */
  private async pruneMedia(): Promise<void> {
    try {
      const before = this.clock.now() - this.config.media.keepDays * 86_400_000;
      let n = 0;
      for (let k = await this.media.prune(before); k > 0; k = await this.media.prune(before)) n += k;
      if (n > 0)
        log.info({ removed: n, keepDays: this.config.media.keepDays }, 'old clips and snapshots removed');
    } catch (err) {
      log.error({ err }, 'media pruning failed');
    }
  }

  /** Graceful: stop taking new work, drain what is in flight, close the store last. */
  async stop(): Promise<void> {
    this.ready = false;
    await this.broker?.stop();
    this.hub?.stop();
    this.commands?.stop();
    await this.http?.close();
    await this.hazards?.stop();
    await this.accidents?.stop();
    await this.notifier?.stop();
    await this.safety?.close();
    if (this.mediaPrune) clearInterval(this.mediaPrune);
    await this.media?.close();
    await this.coverage?.stop();
    await this.sweeper?.stop();
    await this.fireRoom?.stop();
    await this.alerts?.stop();
    await this.presence?.stop();
    this.telemetry?.stop();
    await this.series?.stop();
    await this.store?.close();
    log.info('central stopped');
  }
}
