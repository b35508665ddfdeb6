import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { errorHandler } from '../../../dashboard/errors.js';
import { scopeOf } from '../../../dashboard/scope.js';
import { CarewatchError } from '../../../lib/errors.js';
import type { Region, Role, Site, User } from '../../../storage/types.js';

/**
 * A minimal fastify app with the real error handler and a stub session:
 * the `x-who` header picks one of the users below. Regions: C1 > {D1: site-a, D2: site-b}.
 */
const REGIONS: Region[] = [
  { id: 'C1', name: '市', level: 'city', parentId: null },
  { id: 'D1', name: '区一', level: 'district', parentId: 'C1' },
  { id: 'D2', name: '区二', level: 'district', parentId: 'C1' },
] as Region[];
const SITES: Site[] = [
  { id: 'site-a', name: 'A', region: 'D1', createdAt: 0 },
  { id: 'site-b', name: 'B', region: 'D2', createdAt: 0 },
];

const user = (username: string, role: Role, siteIds: string[] | '*', regionId: string | null): User => ({
  id: username,
  username,
  passwordHash: '',
  role,
  siteIds,
  regionId,
});

export const USERS = {
  admin: user('admin', 'admin', '*', null),
  'head-a': user('head-a', 'institution_head', ['site-a'], null),
  'staff-a': user('staff-a', 'institution_staff', ['site-a'], null),
  'civil-d1': user('civil-d1', 'civil_affairs', [], 'D1'),
  'fire-d1': user('fire-d1', 'fire_rescue', [], 'D1'),
} as const;
export type Who = keyof typeof USERS;

export const stubSessions = {
  async require(req: FastifyRequest) {
    const who = req.headers['x-who'];
    const u = typeof who === 'string' ? USERS[who as Who] : undefined;
    if (!u) throw new CarewatchError('AUTH_REQUIRED', 'log in first');
    return { user: u, scope: scopeOf(u, REGIONS, SITES) };
  },
};

export async function routeApp(register: (app: FastifyInstance) => Promise<void>): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.setErrorHandler(errorHandler);
  await register(app);
  await app.ready();
  return app;
}

export const call = (
  app: FastifyInstance,
  who: Who | null,
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
) =>
  app.inject({
    method,
    url,
    headers: who ? { 'x-who': who } : {},
    ...(body === undefined ? {} : { payload: body as object }),
  });
