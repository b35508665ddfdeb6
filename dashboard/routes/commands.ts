import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { CarewatchError } from '../../lib/errors.js';
import { ID_PATTERN } from '../../protocol/index.js';
import type { AppDeps } from '../app.js';
import { canSeeSite } from '../scope.js';

const Params = Type.Object({
  siteId: Type.String({ pattern: ID_PATTERN }),
  name: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }),
});
const Body = Type.Object(
  {
    args: Type.Optional(Type.Object({}, { additionalProperties: true })),
    timeoutS: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 600 })),
  },
  { additionalProperties: false },
);
const CommandView = Type.Object({
  id: Type.String(),
  siteId: Type.String(),
  name: Type.String(),
  args: Type.Object({}, { additionalProperties: true }),
  actor: Type.String(),
  sentAt: Type.Number(),
  status: Type.String(),
  repliedAt: Type.Union([Type.Number(), Type.Null()]),
  reply: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
});

/** Commands to a site's gateway: roles with the `command` capability, within their scope. */
export async function commandRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.post<{
    Params: { siteId: string; name: string };
    Body: { args?: Record<string, unknown>; timeoutS?: number } | undefined;
  }>(
    '/api/sites/:siteId/commands/:name',
    {
      schema: {
        params: Params,
        body: Type.Optional(Body),
        response: { 200: Type.Object({ command: CommandView }) },
      },
    },
    async (req) => {
      const { user, scope } = await deps.sessions.require(req);
      if (!canSeeSite(scope, req.params.siteId))
        throw new CarewatchError('NOT_FOUND', `site ${req.params.siteId} does not exist`);
      if (!scope.can.command) {
        throw new CarewatchError('FORBIDDEN', `role ${user.role} may not send commands to gateways`);
      }
      const command = await deps.commands.send(req.params.siteId, req.params.name, req.body?.args ?? {}, {
        actor: `user:${user.username}`,
        timeoutMs: (req.body?.timeoutS ?? 10) * 1000,
      });
      return { command };
    },
  );

  app.get<{ Params: { siteId: string } }>(
    '/api/sites/:siteId/commands',
    {
      schema: {
        params: Type.Object({ siteId: Type.String({ pattern: ID_PATTERN }) }),
        response: { 200: Type.Object({ commands: Type.Array(CommandView) }) },
      },
    },
    async (req) => {
      const { scope } = await deps.sessions.require(req);
      if (!canSeeSite(scope, req.params.siteId))
        throw new CarewatchError('NOT_FOUND', `site ${req.params.siteId} does not exist`);
      return { commands: await deps.store.commands.list(req.params.siteId, 100) };
    },
  );
}
