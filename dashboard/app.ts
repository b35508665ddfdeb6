import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { AccidentService } from '../alerts/accidents/service.js';
import type { AlertService } from '../alerts/alert-service.js';
import type { FireRoomService } from '../alerts/fire-room/service.js';
import type { HazardService } from '../alerts/hazards/service.js';
import type { CommandService } from '../central/commands.js';
import type { CoverageService } from '../central/coverage.js';
import type { MediaStore } from '../central/media/store.js';
import type { GatewayCredentials } from '../ingest/credentials.js';
import type { PresenceTracker } from '../ingest/presence.js';
import type { Metrics } from '../lib/metrics.js';
import type { TimeSeries } from '../storage/timeseries/index.js';
import type { CentralStore } from '../storage/types.js';
import type { Sessions } from './auth.js';
import { errorHandler } from './errors.js';
import { accidentRoutes } from './routes/accidents.js';
import { alertRoutes } from './routes/alerts.js';
import { archiveRoutes } from './routes/archive.js';
import { chartRoutes } from './routes/charts.js';
import { commandRoutes } from './routes/commands.js';
import { coverageRoutes } from './routes/coverage.js';
import { fireRoomRoutes } from './routes/fire-room.js';
import { gatewayMediaRoutes } from './routes/gateway-media.js';
import { hazardRoutes } from './routes/hazards.js';
import { mediaRoutes } from './routes/media.js';
import { opsRoutes } from './routes/ops.js';
import { sessionRoutes } from './routes/session.js';
import { silenceRoutes } from './routes/silences.js';
import { siteRoutes } from './routes/sites.js';
import { siteFilter, typeFilter } from './scope.js';
import { webApp } from './static.js';
import type { WsHub } from './ws-hub.js';

export interface AppDeps {
  store: CentralStore;
  alerts: AlertService;
  commands: CommandService;
  accidents: AccidentService;
  hazards: HazardService;
  coverage: CoverageService;
  series: TimeSeries;
  fireRoom: FireRoomService;
  sessions: Sessions;
  hub: WsHub;
  presence: PresenceTracker;
  metrics: Metrics;
  ready: () => boolean;
  secureCookies: boolean;
  /** Snapshots and clips uploaded by the gateways, and the footage access log. */
  media: MediaStore;
  /** Gateway logins, for media uploads over HTTP. */
  credentials: GatewayCredentials;
  /** The largest clip or snapshot a gateway may upload (default 512 MiB). */
  maxUploadBytes?: number;
}

/** The HTTP API, the supervisor WebSocket and the plain alert page, as one fastify plugin. */
export async function dashboardApp(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.setErrorHandler(errorHandler);
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  await sessionRoutes(app, deps);
  await alertRoutes(app, deps);
  await siteRoutes(app, deps);
  await archiveRoutes(app, deps);
  await chartRoutes(app, deps);
  await coverageRoutes(app, deps);
  await accidentRoutes(app, deps);
  await hazardRoutes(app, deps);
  await commandRoutes(app, deps);
  await silenceRoutes(app, deps);
  await fireRoomRoutes(app, deps);
  await opsRoutes(app, deps);
  await mediaRoutes(app, deps);
  await gatewayMediaRoutes(app, deps);

  app.get('/api/ws', { websocket: true }, async (socket, req) => {
    const ctx = await deps.sessions.fromRequest(req);
    if (!ctx) {
      socket.close(4401, 'log in first');
      return;
    }
    const snapshot = await deps.store.alerts.list({
      siteIds: siteFilter(ctx.scope),
      types: typeFilter(ctx.scope),
      states: ['open', 'acknowledged'],
    });
    deps.hub.add(socket, ctx.scope, snapshot);
  });

  await webApp(app);
}
