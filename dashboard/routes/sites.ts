import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app.js';
import { canSeeSite, siteFilter, typeFilter } from '../scope.js';

const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

const SiteView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  region: Type.Union([Type.String(), Type.Null()]),
  gateways: Type.Array(
    Type.Object({
      gatewayId: Type.String(),
      state: Type.String(),
      changedAt: Type.Number(),
      lastHeartbeatAt: NullableNumber,
      outboxDepth: NullableNumber,
      reason: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
  openAlerts: Type.Integer(),
});

export async function siteRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get(
    '/api/sites',
    { schema: { response: { 200: Type.Object({ sites: Type.Array(SiteView) }) } } },
    async (req) => {
      const { scope } = await deps.sessions.require(req);
      const sites = (await deps.store.registry.sites()).filter((s) => canSeeSite(scope, s.id));
      const open = await deps.store.alerts.list({
        siteIds: siteFilter(scope),
        types: typeFilter(scope),
        states: ['open', 'acknowledged'],
        limit: 10_000,
      });
      const presence = deps.presence.all();
      return {
        sites: sites.map((s) => ({
          id: s.id,
          name: s.name,
          region: s.region,
          gateways: presence
            .filter((p) => p.siteId === s.id)
            .map((p) => ({
              gatewayId: p.gatewayId,
              state: p.state,
              changedAt: p.changedAt,
              lastHeartbeatAt: p.lastHeartbeatAt,
              outboxDepth: p.outboxDepth,
              reason: p.reason,
            })),
          openAlerts: open.filter((a) => a.siteId === s.id).length,
        })),
      };
    },
  );
}
