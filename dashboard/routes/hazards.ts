import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { HazardService } from '../../alerts/hazards/service.js';
import { HAZARD_KINDS, HAZARD_STATES, type HazardState } from '../../alerts/hazards/types.js';
import { CarewatchError } from '../../lib/errors.js';
import { ID_PATTERN } from '../../protocol/index.js';
import { canSeeSite, siteFilter } from '../scope.js';
import type { RouteSessions } from './accidents.js';

const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

export const HazardView = Type.Object({
  id: Type.String(),
  siteId: Type.String(),
  source: Type.String(),
  kind: Type.Union(HAZARD_KINDS.map((k) => Type.Literal(k))),
  title: Type.String(),
  openedAt: Type.Number(),
  alertId: NullableString,
  responsible: NullableString,
  rectifyBy: NullableNumber,
  state: Type.Union(HAZARD_STATES.map((s) => Type.Literal(s))),
  closedAt: NullableNumber,
  closedBy: NullableString,
  closeNote: NullableString,
  escalatedAt: NullableNumber,
});

const LogView = Type.Object({
  hazardId: Type.String(),
  at: Type.Number(),
  actor: Type.String(),
  action: Type.String(),
  note: NullableString,
});

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const STATE_LIST = `^(${HAZARD_STATES.join('|')})(,(${HAZARD_STATES.join('|')}))*$`;
const ListQuery = Type.Object(
  {
    state: Type.Optional(Type.String({ pattern: STATE_LIST })),
    siteId: Type.Optional(Type.String({ pattern: ID_PATTERN })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
  },
  { additionalProperties: false },
);
const AssignBody = Type.Object(
  {
    responsible: Type.String({ minLength: 1, maxLength: 100 }),
    /** An ISO 8601 time, e.g. 2026-02-01T18:00:00+08:00. */
    rectifyBy: Type.String({ minLength: 10, maxLength: 40 }),
  },
  { additionalProperties: false },
);
const CloseBody = Type.Object({ note: Type.String({ maxLength: 2000 }) }, { additionalProperties: false });

const notFound = (id: string) => new CarewatchError('NOT_FOUND', `hazard ${id} does not exist`);

/**
 * The hazard ledger (隐患、整改、责任清单): list, assign (责任人, 整改期限),
 * close with a note (销号) and a CSV of the three lists. Assign and close need
 * `can.resolve`; hazards outside the user's sites are answered like missing ones.
 */
export async function hazardRoutes(
  app: FastifyInstance,
  deps: { sessions: RouteSessions; hazards: HazardService },
): Promise<void> {
  /** The query within the user's sites (a foreign siteId selects nothing). */
  const filter = (siteIds: string[] | undefined, q: { state?: string; siteId?: string; limit?: number }) => ({
    siteIds: q.siteId === undefined ? siteIds : !siteIds || siteIds.includes(q.siteId) ? [q.siteId] : [],
    states: q.state ? (q.state.split(',') as HazardState[]) : undefined,
    limit: q.limit,
  });

  app.get<{ Querystring: { state?: string; siteId?: string; limit?: number } }>(
    '/api/hazards',
    {
      schema: { querystring: ListQuery, response: { 200: Type.Object({ hazards: Type.Array(HazardView) }) } },
    },
    async (req) => {
      const { scope } = await deps.sessions.require(req);
      return { hazards: await deps.hazards.list(filter(siteFilter(scope), req.query)) };
    },
  );

  app.get<{ Querystring: { state?: string; siteId?: string; limit?: number } }>(
    '/api/hazards.csv',
    { schema: { querystring: ListQuery } },
    async (req, reply) => {
      const { scope } = await deps.sessions.require(req);
      void reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="carewatch-hazards.csv"');
      return deps.hazards.csv(filter(siteFilter(scope), req.query));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/hazards/:id',
    {
      schema: {
        params: IdParams,
        response: { 200: Type.Object({ hazard: HazardView, log: Type.Array(LogView) }) },
      },
    },
    async (req) => {
      const { scope } = await deps.sessions.require(req);
      const found = await deps.hazards.get(req.params.id);
      if (!found || !canSeeSite(scope, found.hazard.siteId)) throw notFound(req.params.id);
      return found;
    },
  );

  app.post<{ Params: { id: string }; Body: { responsible: string; rectifyBy: string } }>(
    '/api/hazards/:id/assign',
    {
      schema: {
        params: IdParams,
        body: AssignBody,
        response: { 200: Type.Object({ hazard: HazardView }) },
      },
    },
    async (req) => {
      const { user, scope } = await deps.sessions.require(req);
      const found = await deps.hazards.get(req.params.id);
      if (!found || !canSeeSite(scope, found.hazard.siteId)) throw notFound(req.params.id);
      if (!scope.can.resolve)
        throw new CarewatchError('FORBIDDEN', `role ${user.role} may not assign hazards`);
      const rectifyBy = Date.parse(req.body.rectifyBy);
      if (!Number.isFinite(rectifyBy)) {
        throw new CarewatchError('HAZARD_INVALID', 'body/rectifyBy: must be an ISO 8601 time', {
          field: 'rectifyBy',
        });
      }
      const hazard = await deps.hazards.assign(found.hazard.id, {
        responsible: req.body.responsible,
        rectifyBy,
        actor: `user:${user.username}`,
      });
      return { hazard };
    },
  );

  app.post<{ Params: { id: string }; Body: { note: string } }>(
    '/api/hazards/:id/close',
    {
      schema: {
        params: IdParams,
        body: CloseBody,
        response: { 200: Type.Object({ hazard: HazardView }) },
      },
    },
    async (req) => {
      const { user, scope } = await deps.sessions.require(req);
      const found = await deps.hazards.get(req.params.id);
      if (!found || !canSeeSite(scope, found.hazard.siteId)) throw notFound(req.params.id);
      if (!scope.can.resolve)
        throw new CarewatchError('FORBIDDEN', `role ${user.role} may not close hazards`);
      const hazard = await deps.hazards.close(found.hazard.id, {
        note: req.body.note,
        actor: `user:${user.username}`,
      });
      return { hazard };
    },
  );
}
