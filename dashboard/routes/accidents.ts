import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccidentService } from '../../alerts/accidents/service.js';
import {
  ACCIDENT_STATES,
  type AccidentState,
  REPORT_CHANNELS,
  type ReportChannel,
} from '../../alerts/accidents/types.js';
import { CarewatchError } from '../../lib/errors.js';
import { ID_PATTERN } from '../../protocol/index.js';
import type { User } from '../../storage/types.js';
import { canSeeSite, type Scope, siteFilter } from '../scope.js';

/** What the routes need of the sessions (the real `Sessions` fits). */
export interface RouteSessions {
  require(req: FastifyRequest): Promise<{ user: User; scope: Scope }>;
}

const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

export const AccidentView = Type.Object({
  id: Type.String(),
  siteId: Type.String(),
  alertId: NullableString,
  title: Type.String(),
  classifiedAt: Type.Number(),
  classifiedBy: Type.String(),
  deadlineAt: Type.Number(),
  state: Type.Union(ACCIDENT_STATES.map((s) => Type.Literal(s))),
  reportedAt: NullableNumber,
  reportedLate: Type.Boolean(),
  warnedAt: NullableNumber,
  overdueAt: NullableNumber,
});

export const AccidentReportView = Type.Object({
  accidentId: Type.String(),
  at: Type.Number(),
  by: Type.String(),
  toWhom: Type.String(),
  channel: Type.Union(REPORT_CHANNELS.map((c) => Type.Literal(c))),
  note: NullableString,
  late: Type.Boolean(),
});

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const ClassifyBody = Type.Object(
  {
    siteId: Type.String({ pattern: ID_PATTERN }),
    alertId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    title: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);
const ReportBody = Type.Object(
  {
    to: Type.String({ minLength: 1, maxLength: 200 }),
    channel: Type.Union(REPORT_CHANNELS.map((c) => Type.Literal(c))),
    note: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
const STATE_LIST = `^(${ACCIDENT_STATES.join('|')})(,(${ACCIDENT_STATES.join('|')}))*$`;
const ListQuery = Type.Object(
  {
    state: Type.Optional(Type.String({ pattern: STATE_LIST })),
    siteId: Type.Optional(Type.String({ pattern: ID_PATTERN })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);

const notFound = (id: string) => new CarewatchError('NOT_FOUND', `accident ${id} does not exist`);

/**
 * Safety accidents and the 1-hour reporting duty (1小时内报告). Classifying
 * and reporting need `can.resolve` (institution roles and admin); everything
 * outside the user's sites is answered like a missing accident (404).
 */
export async function accidentRoutes(
  app: FastifyInstance,
  deps: { sessions: RouteSessions; accidents: AccidentService },
): Promise<void> {
  app.post<{ Body: { siteId: string; alertId?: string; title: string } }>(
    '/api/accidents',
    { schema: { body: ClassifyBody, response: { 200: Type.Object({ accident: AccidentView }) } } },
    async (req) => {
      const { user, scope } = await deps.sessions.require(req);
      if (!canSeeSite(scope, req.body.siteId))
        throw new CarewatchError('NOT_FOUND', `site ${req.body.siteId} does not exist`);
      if (!scope.can.resolve)
        throw new CarewatchError('FORBIDDEN', `role ${user.role} may not classify accidents`);
      const accident = await deps.accidents.classify({
        siteId: req.body.siteId,
        alertId: req.body.alertId ?? null,
        title: req.body.title,
        actor: `user:${user.username}`,
      });
      return { accident };
    },
  );

  app.post<{ Params: { id: string }; Body: { to: string; channel: ReportChannel; note?: string } }>(
    '/api/accidents/:id/reports',
    {
      schema: {
        params: IdParams,
        body: ReportBody,
        response: { 200: Type.Object({ accident: AccidentView, report: AccidentReportView }) },
      },
    },
    async (req) => {
      const { user, scope } = await deps.sessions.require(req);
      const found = await deps.accidents.get(req.params.id);
      if (!found || !canSeeSite(scope, found.accident.siteId)) throw notFound(req.params.id);
      if (!scope.can.resolve)
        throw new CarewatchError('FORBIDDEN', `role ${user.role} may not report accidents`);
      return deps.accidents.report(found.accident.id, {
        to: req.body.to,
        channel: req.body.channel,
        note: req.body.note ?? null,
        actor: `user:${user.username}`,
      });
    },
  );

  app.get<{ Querystring: { state?: string; siteId?: string; limit?: number } }>(
    '/api/accidents',
    {
      schema: {
        querystring: ListQuery,
        response: { 200: Type.Object({ accidents: Type.Array(AccidentView) }) },
      },
    },
    async (req) => {
      const { scope } = await deps.sessions.require(req);
      const { siteId, state, limit } = req.query;
      if (siteId !== undefined && !canSeeSite(scope, siteId)) return { accidents: [] };
      return {
        accidents: await deps.accidents.list({
          siteIds: siteId !== undefined ? [siteId] : siteFilter(scope),
          states: state ? (state.split(',') as AccidentState[]) : undefined,
          limit,
        }),
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/accidents/:id',
    {
      schema: {
        params: IdParams,
        response: {
          200: Type.Object({
            accident: AccidentView,
            reports: Type.Array(AccidentReportView),
            remainingS: NullableNumber,
          }),
        },
      },
    },
    async (req) => {
      const { scope } = await deps.sessions.require(req);
      const found = await deps.accidents.get(req.params.id);
      if (!found || !canSeeSite(scope, found.accident.siteId)) throw notFound(req.params.id);
      return found;
    },
  );
}
