import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Region } from '../../storage/types.js';
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

const RegionView = Type.Object({
  id: Type.String(),
  parentId: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  level: Type.String(),
});

/** The regions above the given sites, up to the root: what a region tree of those sites needs, no more. */
function regionsAbove(all: Region[], sites: Array<{ region: string | null }>): Region[] {
  const byId = new Map(all.map((r) => [r.id, r]));
  const keep = new Map<string, Region>();
  for (const s of sites) {
    for (let r = s.region ? byId.get(s.region) : undefined; r && !keep.has(r.id); ) {
      keep.set(r.id, r);
      r = r.parentId ? byId.get(r.parentId) : undefined;
    }
  }
  return [...keep.values()];
}

export async function siteRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get(
    '/api/sites',
    {
      schema: {
        response: { 200: Type.Object({ sites: Type.Array(SiteView), regions: Type.Array(RegionView) }) },
      },
    },
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
        regions: regionsAbove(await deps.store.registry.regions(), sites).map((r) => ({
          id: r.id,
          parentId: r.parentId,
          name: r.name,
          level: r.level,
        })),
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
