import { centralDbPath } from '../central/central.js';
import { CarewatchError } from '../lib/errors.js';
import { hashPassword, randomSecret } from '../lib/passwords.js';
import { isValidId, mintId } from '../protocol/index.js';
import { openSqliteCentralStore } from '../storage/sqlite/central-store.js';
import type { Role } from '../storage/types.js';

function checkId(what: string, v: string): void {
  if (!isValidId(v)) {
    throw new CarewatchError('ARG_INVALID', `${what} '${v}' must be 1-64 letters, digits, '_', '.' or '-'`);
  }
}

/** Creates (or re-keys) a gateway's credentials; the secret is shown once and stored only as a hash. */
export async function provisionGateway(a: {
  dataDir: string;
  siteId: string;
  siteName?: string;
  region?: string;
  gatewayId: string;
  password?: string;
}): Promise<{ gatewayId: string; siteId: string; password: string }> {
  checkId('site id', a.siteId);
  checkId('gateway id', a.gatewayId);
  const password = a.password ?? randomSecret(24);
  if (password.length < 12)
    throw new CarewatchError('ARG_INVALID', 'gateway password must be at least 12 characters');
  const store = openSqliteCentralStore(centralDbPath(a));
  try {
    await store.registry.upsertSite({ id: a.siteId, name: a.siteName ?? a.siteId, region: a.region ?? null });
    await store.registry.putGateway({
      id: a.gatewayId,
      siteId: a.siteId,
      secretHash: await hashPassword(password),
    });
  } finally {
    await store.close();
  }
  return { gatewayId: a.gatewayId, siteId: a.siteId, password };
}

const ROLES: Role[] = ['admin', 'supervisor', 'staff'];

export async function addUser(a: {
  dataDir: string;
  username: string;
  role: string;
  sites: string;
  password?: string;
}): Promise<{ username: string; password: string }> {
  if (!ROLES.includes(a.role as Role)) {
    throw new CarewatchError('ARG_INVALID', `role '${a.role}' is not one of ${ROLES.join(', ')}`);
  }
  checkId('user name', a.username);
  const siteIds =
    a.sites === '*'
      ? '*'
      : a.sites
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  if (siteIds !== '*') for (const s of siteIds) checkId('site id', s);
  const password = a.password ?? randomSecret(12);
  if (password.length < 8) throw new CarewatchError('ARG_INVALID', 'password must be at least 8 characters');
  const store = openSqliteCentralStore(centralDbPath(a));
  try {
    const existing = await store.users.byUsername(a.username);
    await store.users.putUser({
      id: existing?.id ?? mintId(),
      username: a.username,
      passwordHash: await hashPassword(password),
      role: a.role as Role,
      siteIds,
    });
  } finally {
    await store.close();
  }
  return { username: a.username, password };
}
