import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app.js';
import { canSeeSite, kindFilter, siteFilter, typeFilter } from '../scope.js';

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

  app.get<{ Querystring: { siteId?: string; kind?: string; limit?: number } }>(
    '/api/events',
    {
      schema: {
        querystring: Type.Object(
          {
            siteId: Type.Optional(Type.String({ maxLength: 64 })),
            kind: Type.Optional(Type.String({ maxLength: 64 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      const { scope } = await deps.sessions.require(req);
      const siteIds = req.query.siteId
        ? canSeeSite(scope, req.query.siteId)
          ? [req.query.siteId]
          : []
        : siteFilter(scope);
      const events = await deps.store.events.list({
        siteIds,
        kinds: kindFilter(scope),
        kind: req.query.kind,
        limit: req.query.limit ?? 100,
      });
      return {
        events: events.map((e) => ({ ...e.envelope, receivedAt: e.receivedAt, gatewayId: e.gatewayId })),
      };
    },
  );
}
