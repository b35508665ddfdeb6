import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { CarewatchError } from '../../lib/errors.js';
import { ALERT_STATES, type AlertState, SEVERITIES } from '../../storage/types.js';
import type { AppDeps } from '../app.js';
import { canSeeAlert, siteFilter, typeFilter } from '../scope.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

export const AlertView = Type.Object({
  id: Type.String(),
  siteId: Type.String(),
  source: Type.String(),
  type: Type.String(),
  severity: Type.Union(SEVERITIES.map((s) => Type.Literal(s))),
  state: Type.Union(ALERT_STATES.map((s) => Type.Literal(s))),
  title: Type.String(),
  eventId: Nullable(Type.String()),
  drill: Type.Boolean(),
  count: Type.Integer(),
  openedAt: Type.Number(),
  updatedAt: Type.Number(),
  ackedAt: NullableNumber,
  ackedBy: Nullable(Type.String()),
  resolvedAt: NullableNumber,
  resolvedBy: Nullable(Type.String()),
  escalationLevel: Type.Integer(),
  /** Reminders sent at the current escalation level. */
  repeatCount: Type.Optional(Type.Integer()),
  /** The next escalation step: a reminder at this level or the climb to the next. */
  nextEscalationAt: NullableNumber,
  suppressed: Type.Union([Type.Literal('silenced'), Type.Literal('inhibited'), Type.Null()]),
});

const AuditView = Type.Object({
  at: Type.Number(),
  actor: Type.String(),
  action: Type.String(),
  fromState: Nullable(Type.String()),
  toState: Nullable(Type.String()),
  level: NullableNumber,
  note: Nullable(Type.String()),
  eventId: Nullable(Type.String()),
});

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const NoteBody = Type.Object(
  { note: Type.Optional(Type.String({ maxLength: 1000 })) },
  { additionalProperties: false },
);
const ListQuery = Type.Object(
  {
    state: Type.Optional(
      Type.String({ pattern: '^(open|acknowledged|resolved)(,(open|acknowledged|resolved))*$' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);

export async function alertRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get<{ Querystring: { state?: string; limit?: number } }>(
    '/api/alerts',
    { schema: { querystring: ListQuery, response: { 200: Type.Object({ alerts: Type.Array(AlertView) }) } } },
    async (req) => {
      const { scope } = await deps.sessions.require(req);
      const states = req.query.state ? (req.query.state.split(',') as AlertState[]) : undefined;
      return {
        alerts: await deps.store.alerts.list({
          siteIds: siteFilter(scope),
          types: typeFilter(scope),
          states,
          limit: req.query.limit,
        }),
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/alerts/:id',
    {
      schema: {
        params: IdParams,
        response: { 200: Type.Object({ alert: AlertView, audit: Type.Array(AuditView) }) },
      },
    },
    async (req) => {
      const { scope } = await deps.sessions.require(req);
      const alert = await deps.store.alerts.get(req.params.id);
      // an alert outside the user's scope is answered exactly like a missing one
      if (!alert || !canSeeAlert(scope, alert)) {
        throw new CarewatchError('ALERT_NOT_FOUND', `alert ${req.params.id} does not exist`);
      }
      return { alert, audit: await deps.store.alerts.audit(alert.id) };
    },
  );

  for (const action of ['ack', 'resolve'] as const) {
    app.post<{ Params: { id: string }; Body: { note?: string } | undefined }>(
      `/api/alerts/:id/${action}`,
      {
        schema: {
          params: IdParams,
          body: Type.Optional(NoteBody),
          response: { 200: Type.Object({ alert: AlertView }) },
        },
      },
      async (req) => {
        const { user, scope } = await deps.sessions.require(req);
        const existing = await deps.store.alerts.get(req.params.id);
        if (!existing || !canSeeAlert(scope, existing)) {
          throw new CarewatchError('ALERT_NOT_FOUND', `alert ${req.params.id} does not exist`);
        }
        if (!(action === 'ack' ? scope.can.acknowledge : scope.can.resolve)) {
          throw new CarewatchError(
            'FORBIDDEN',
            `role ${user.role} may not ${action === 'ack' ? 'acknowledge' : 'resolve'} alerts`,
          );
        }
        const actor = `user:${user.username}`;
        const note = req.body?.note ?? null;
        const alert =
          action === 'ack'
            ? await deps.alerts.acknowledge(existing.id, actor, note)
            : await deps.alerts.resolve(existing.id, actor, note);
        return { alert };
      },
    );
  }
}
