import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app.js';
import type { Scope } from '../scope.js';
import {
  ARCHIVE_SETS,
  type ArchiveQuery,
  type ArchiveSet,
  archiveEvents,
  archivePdf,
  archiveTable,
  ArchiveQuery as Query,
} from './archive-sets.js';

const SetParams = Type.Object({ set: Type.Union(ARCHIVE_SETS.map((s) => Type.Literal(s))) });

const filterOf = (q: ArchiveQuery) =>
  [q.siteId ?? '*', q.kind ?? '*', `${q.since ?? '…'}–${q.until ?? '…'}`].join(' · ');

/**
 * Archives for inspections, all in the user's scope: the raw events (JSON for
 * the app), and every archive set (events, alarms, duty log, handovers) as rows
 * for the page and the CSV, and as a PDF.
 */
export async function archiveRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get<{ Querystring: ArchiveQuery }>('/api/events', { schema: { querystring: Query } }, async (req) => {
    const { scope } = await deps.sessions.require(req);
    const events = await archiveEvents(deps, scope, req.query);
    return {
      events: events.map((e) => ({ ...e.envelope, receivedAt: e.receivedAt, gatewayId: e.gatewayId })),
    };
  });

  const pdf = async (set: ArchiveSet, query: ArchiveQuery, user: string, scope: Scope) =>
    archivePdf(await archiveTable(deps, scope, set, query), user, filterOf(query));

  app.get<{ Querystring: ArchiveQuery }>(
    '/api/events.pdf',
    { schema: { querystring: Query } },
    async (req, reply) => {
      const { user, scope } = await deps.sessions.require(req);
      const body = await pdf('events', req.query, user.username, scope);
      void reply
        .type('application/pdf')
        .header('content-disposition', 'attachment; filename="carewatch-archive.pdf"');
      return body;
    },
  );

  app.get<{ Params: { set: ArchiveSet }; Querystring: ArchiveQuery }>(
    '/api/archive/:set',
    {
      schema: {
        params: SetParams,
        querystring: Query,
        response: {
          200: Type.Object({
            title: Type.String(),
            columns: Type.Array(Type.String()),
            rows: Type.Array(Type.Array(Type.String())),
          }),
        },
      },
    },
    async (req) => {
      const { scope } = await deps.sessions.require(req);
      return archiveTable(deps, scope, req.params.set, req.query);
    },
  );

  app.get<{ Params: { set: ArchiveSet }; Querystring: ArchiveQuery }>(
    '/api/archive/:set/pdf',
    { schema: { params: SetParams, querystring: Query } },
    async (req, reply) => {
      const { user, scope } = await deps.sessions.require(req);
      const body = await pdf(req.params.set, req.query, user.username, scope);
      void reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="carewatch-${req.params.set}.pdf"`);
      return body;
    },
  );
}
