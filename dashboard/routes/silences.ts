import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { CarewatchError } from '../../lib/errors.js';
import { ID_PATTERN, mintId } from '../../protocol/index.js';
import type { AppDeps } from '../app.js';
import { canSeeSite, siteFilter } from '../scope.js';

const MAX_SILENCE_S = 7 * 24 * 3600;

const SilenceView = Type.Object({
  id: Type.String(),
  siteId: Type.String(),
  type: Type.Union([Type.String(), Type.Null()]),
  source: Type.Union([Type.String(), Type.Null()]),
  startsAt: Type.Number(),
  endsAt: Type.Number(),
  reason: Type.String(),
  createdBy: Type.String(),
  createdAt: Type.Number(),
});
const Body = Type.Object(
  {
    siteId: Type.String({ pattern: ID_PATTERN }),
    type: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' })),
    source: Type.Optional(Type.String({ maxLength: 128 })),
    durationS: Type.Integer({ minimum: 60, maximum: MAX_SILENCE_S }),
    reason: Type.String({ minLength: 2, maxLength: 500 }),
  },
  { additionalProperties: false },
);

/** Maintenance silences: alerts matching one are recorded but not escalated or notified until it ends. */
export async function silenceRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.post<{ Body: { siteId: string; type?: string; source?: string; durationS: number; reason: string } }>(
    '/api/silences',
    { schema: { body: Body, response: { 200: Type.Object({ silence: SilenceView }) } } },
    async (req) => {
      const { user, scope } = await deps.sessions.require(req);
      if (!canSeeSite(scope, req.body.siteId))
        throw new CarewatchError('NOT_FOUND', `site ${req.body.siteId} does not exist`);
      if (!scope.can.resolve)
        throw new CarewatchError('FORBIDDEN', `role ${user.role} may not silence alerts`);
      const now = Date.now();
      const silence = {
        id: mintId(),
        siteId: req.body.siteId,
        type: req.body.type ?? null,
        source: req.body.source ?? null,
        startsAt: now,
        endsAt: now + req.body.durationS * 1000,
        reason: req.body.reason,
        createdBy: `user:${user.username}`,
        createdAt: now,
      };
      await deps.store.silences.add(silence);
      return { silence };
    },
  );

  app.get(
    '/api/silences',
    { schema: { response: { 200: Type.Object({ silences: Type.Array(SilenceView) }) } } },
    async (req) => {
      const { scope } = await deps.sessions.require(req);
      return { silences: await deps.store.silences.active(Date.now(), siteFilter(scope)) };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/silences/:id',
    { schema: { params: Type.Object({ id: Type.String({ maxLength: 64 }) }) } },
    async (req) => {
      const { user, scope } = await deps.sessions.require(req);
      const s = await deps.store.silences.get(req.params.id);
      if (!s || !canSeeSite(scope, s.siteId))
        throw new CarewatchError('NOT_FOUND', `silence ${req.params.id} does not exist`);
      if (!scope.can.resolve) throw new CarewatchError('FORBIDDEN', `role ${user.role} may not end silences`);
      return { ended: await deps.store.silences.end(s.id, Date.now()) };
    },
  );
}
