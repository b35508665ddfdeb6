import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { CarewatchError } from '../../lib/errors.js';
import type { User } from '../../storage/types.js';
import type { AppDeps } from '../app.js';
import { LoginLimiter, parseCookies, SESSION_COOKIE } from '../auth.js';
import { CAPABILITIES } from '../scope.js';

const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
);
const UserView = Type.Object({
  username: Type.String(),
  role: Type.String(),
  siteIds: Type.Union([Type.Array(Type.String()), Type.Literal('*')]),
  regionId: Type.Union([Type.String(), Type.Null()]),
  can: Type.Object({
    acknowledge: Type.Boolean(),
    resolve: Type.Boolean(),
    command: Type.Boolean(),
    video: Type.Boolean(),
    videoAudit: Type.Boolean(),
  }),
});
const LoginReply = Type.Object({ token: Type.String(), csrf: Type.String(), user: UserView });

function userView(u: User) {
  return {
    username: u.username,
    role: u.role,
    siteIds: u.siteIds,
    regionId: u.regionId,
    can: CAPABILITIES[u.role],
  };
}

export async function sessionRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const limiter = new LoginLimiter();

  app.post<{ Body: { username: string; password: string } }>(
    '/api/session',
    { schema: { body: LoginBody, response: { 200: LoginReply } } },
    async (req, reply) => {
      const { username, password } = req.body;
      const keys = [`ip:${req.ip}`, `user:${username}`];
      if (limiter.blocked(keys[0]!, 20) || limiter.blocked(keys[1]!, 5)) {
        deps.metrics
          .counter('carewatch_login_failures_total', 'failed logins', ['reason'])
          .inc({ reason: 'rate' });
        throw new CarewatchError('RATE_LIMITED', 'too many login attempts; wait a minute');
      }
      const s = await deps.sessions.login(username, password);
      if (!s) {
        for (const k of keys) limiter.fail(k);
        deps.metrics
          .counter('carewatch_login_failures_total', 'failed logins', ['reason'])
          .inc({ reason: 'bad' });
        throw new CarewatchError('LOGIN_FAILED', 'wrong user name or password');
      }
      void reply.header(
        'set-cookie',
        `${SESSION_COOKIE}=${s.token}; Path=/; HttpOnly; SameSite=Strict${deps.secureCookies ? '; Secure' : ''}`,
      );
      return {
        token: s.token,
        csrf: s.csrf,
        user: userView(s.user),
      };
    },
  );

  app.delete('/api/session', async (req, reply) => {
    const ctx = await deps.sessions.require(req);
    const token = req.headers.authorization?.slice(7) ?? parseCookies(req.headers.cookie)[SESSION_COOKIE];
    if (token) await deps.sessions.logout(token);
    void reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; Max-Age=0`);
    return { ok: true, username: ctx.user.username };
  });

  app.get(
    '/api/me',
    { schema: { response: { 200: Type.Object({ user: UserView, csrf: Type.String() }) } } },
    async (req) => {
      const ctx = await deps.sessions.require(req);
      return {
        user: userView(ctx.user),
        csrf: ctx.csrf,
      };
    },
  );
}
