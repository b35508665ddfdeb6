import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CarewatchError } from '../../lib/errors.js';
import { ID_PATTERN } from '../../protocol/index.js';
import type { AppDeps } from '../app.js';
import { canSeeSite } from '../scope.js';

const SiteParams = Type.Object({ siteId: Type.String({ pattern: ID_PATTERN }) });
const OperatorBody = Type.Object(
  {
    id: Type.String({ pattern: ID_PATTERN }),
    name: Type.String({ minLength: 1, maxLength: 64 }),
    certificateNo: Type.String({ minLength: 3, maxLength: 64 }),
    certificateExpiresAt: Type.String({ format: 'date' }),
  },
  { additionalProperties: false },
);
const DutyLogBody = Type.Object(
  {
    kind: Type.Union([Type.Literal('equipment_check'), Type.Literal('note'), Type.Literal('alarm_handling')]),
    body: Type.Object({}, { additionalProperties: true }),
  },
  { additionalProperties: false },
);
const HandoverBody = Type.Object(
  {
    fromOperators: Type.Array(Type.String({ pattern: ID_PATTERN }), { minItems: 1, maxItems: 10 }),
    toOperators: Type.Array(Type.String({ pattern: ID_PATTERN }), { minItems: 1, maxItems: 10 }),
    note: Type.String({ minLength: 1, maxLength: 2000 }),
  },
  { additionalProperties: false },
);
const SettingsBody = Type.Object(
  {
    minOperators: Type.Integer({ minimum: 1, maximum: 10 }),
    maxShiftH: Type.Number({ minimum: 1, maximum: 24 }),
    randomPostChecksPerDay: Type.Number({ minimum: 0, maximum: 48 }),
  },
  { additionalProperties: false },
);

/** The fire-control room of one site: roster, who is on duty, post checks, duty log, handovers. */
export async function fireRoomRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const inScope = async (req: FastifyRequest, siteId: string, write = false) => {
    const ctx = await deps.sessions.require(req);
    if (!canSeeSite(ctx.scope, siteId))
      throw new CarewatchError('NOT_FOUND', `site ${siteId} does not exist`);
    if (write && !ctx.scope.can.resolve) {
      throw new CarewatchError(
        'FORBIDDEN',
        `role ${ctx.user.role} may not change the fire-control room records`,
      );
    }
    return ctx;
  };
  const fr = deps.fireRoom;
  const repo = deps.store.fireRoom;

  app.get<{ Params: { siteId: string } }>(
    '/api/fire-room/:siteId',
    { schema: { params: SiteParams } },
    async (req) => {
      await inScope(req, req.params.siteId);
      const siteId = req.params.siteId;
      const [status, roster, checks, dutyLog, handovers, attendance, settings] = await Promise.all([
        fr.status(siteId),
        repo.operators(siteId),
        repo.postChecks(siteId, 50),
        repo.dutyLog(siteId, 50),
        repo.handovers(siteId, 50),
        repo.attendance(siteId, Date.now() - 7 * 24 * 3600_000, 500),
        repo.settings(siteId),
      ]);
      return { status, roster, postChecks: checks, dutyLog, handovers, attendance, settings };
    },
  );

  app.put<{
    Params: { siteId: string };
    Body: { id: string; name: string; certificateNo: string; certificateExpiresAt: string };
  }>(
    '/api/fire-room/:siteId/operators',
    { schema: { params: SiteParams, body: OperatorBody } },
    async (req) => {
      await inScope(req, req.params.siteId, true);
      const op = {
        ...req.body,
        siteId: req.params.siteId,
        certificateExpiresAt: Date.parse(`${req.body.certificateExpiresAt}T23:59:59Z`),
      };
      await repo.putOperator(op);
      await fr.evaluate(req.params.siteId);
      return { operator: op };
    },
  );

  app.put<{
    Params: { siteId: string };
    Body: { minOperators: number; maxShiftH: number; randomPostChecksPerDay: number };
  }>(
    '/api/fire-room/:siteId/settings',
    { schema: { params: SiteParams, body: SettingsBody } },
    async (req) => {
      const { user } = await inScope(req, req.params.siteId, true);
      if (user.role !== 'admin' && user.role !== 'institution_head') {
        throw new CarewatchError(
          'FORBIDDEN',
          'only an institution head or an administrator may change the staffing rule',
        );
      }
      await repo.putSettings(req.params.siteId, req.body);
      return { settings: req.body, status: await fr.evaluate(req.params.siteId) };
    },
  );

  app.post<{ Params: { siteId: string } }>(
    '/api/fire-room/:siteId/post-checks',
    { schema: { params: SiteParams } },
    async (req) => {
      // any supervisor in scope may check on the room: that is what a remote post check is for
      const { user } = await inScope(req, req.params.siteId);
      return { postCheck: await fr.issuePostCheck(req.params.siteId, `user:${user.username}`) };
    },
  );

  app.post<{ Params: { siteId: string; id: string } }>(
    '/api/fire-room/:siteId/post-checks/:id/answer',
    {
      schema: {
        params: Type.Object({
          siteId: Type.String({ pattern: ID_PATTERN }),
          id: Type.String({ maxLength: 64 }),
        }),
      },
    },
    async (req) => {
      const { user } = await inScope(req, req.params.siteId, true);
      return {
        postCheck: await fr.answer(req.params.id, `user:${user.username}`, 'console', req.params.siteId),
      };
    },
  );

  app.post<{
    Params: { siteId: string };
    Body: { kind: 'equipment_check' | 'note' | 'alarm_handling'; body: Record<string, unknown> };
  }>(
    '/api/fire-room/:siteId/duty-log',
    { schema: { params: SiteParams, body: DutyLogBody } },
    async (req) => {
      const { user } = await inScope(req, req.params.siteId, true);
      const entry = {
        siteId: req.params.siteId,
        at: Date.now(),
        author: `user:${user.username}`,
        ...req.body,
      };
      await repo.addDutyLog(entry);
      await fr.evaluate(req.params.siteId);
      return { entry };
    },
  );

  app.post<{
    Params: { siteId: string };
    Body: { fromOperators: string[]; toOperators: string[]; note: string };
  }>(
    '/api/fire-room/:siteId/handovers',
    { schema: { params: SiteParams, body: HandoverBody } },
    async (req) => {
      const { user } = await inScope(req, req.params.siteId, true);
      const h = { siteId: req.params.siteId, at: Date.now(), author: `user:${user.username}`, ...req.body };
      await repo.addHandover(h);
      return { handover: h };
    },
  );
}
