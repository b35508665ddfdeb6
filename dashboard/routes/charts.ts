import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app.js';
import { siteFilter } from '../scope.js';

const Query = Type.Object(
  { hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 90 })) },
  { additionalProperties: false },
);

/** Chart series for the web app, from the time-series store (InfluxDB or embedded), in the user's scope. */
export async function chartRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get<{ Querystring: { hours?: number } }>(
    '/api/charts/alerts',
    { schema: { querystring: Query } },
    async (req) => {
      const { scope } = await deps.sessions.require(req);
      const until = Math.ceil(Date.now() / 3600_000) * 3600_000;
      const since = until - (req.query.hours ?? 24) * 3600_000;
      const sites = siteFilter(scope);
      const [perHour, ack] = await Promise.all([
        deps.series.alertsPerHour(sites, since, until),
        deps.series.ackTimesPerHour(sites, since, until),
      ]);
      return { since, until, perHour, ackTimes: ack };
    },
  );
}
