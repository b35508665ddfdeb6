import { CarewatchError } from '../lib/errors.js';
import { hashPassword, randomSecret } from '../lib/passwords.js';
import { isValidId, mintId } from '../protocol/index.js';
import { openCentralStore } from '../storage/open-store.js';
import { REGION_LEVELS, type RegionLevel, ROLES, type Role } from '../storage/types.js';

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
  const store = await openCentralStore(a);
  try {
    await store.registry.upsertSite({ id: a.siteId, name: a.siteName ?? a.siteId, region: a.region ?? null });
    await store.registry.putGateway({
      id: a.gatewayId,
      siteId: a.siteId,
      // a generated secret gets the cheaper work factor (lib/passwords.ts): reconnect storms are logins
      secretHash: await hashPassword(password, a.password === undefined ? 'generated' : 'chosen'),
    });
  } finally {
    await store.close();
  }
  return { gatewayId: a.gatewayId, siteId: a.siteId, password };
}

export async function addUser(a: {
  dataDir: string;
  username: string;
  role: string;
  /** Institution roles: comma-separated site ids ('*' only for admin). */
  sites?: string;
  /** Civil-affairs and fire-rescue roles: the region they oversee. */
  region?: string;
  password?: string;
}): Promise<{ username: string; password: string }> {
  if (!ROLES.includes(a.role as Role)) {
    throw new CarewatchError('ARG_INVALID', `role '${a.role}' is not one of ${ROLES.join(', ')}`);
  }
  const role = a.role as Role;
  checkId('user name', a.username);
  let siteIds: string[] | '*' = [];
  let regionId: string | null = null;
  if (role === 'admin') siteIds = '*';
  else if (role === 'institution_head' || role === 'institution_staff') {
    siteIds = (a.sites ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (siteIds.length === 0) throw new CarewatchError('ARG_INVALID', `role ${role} needs --sites`);
    for (const s of siteIds) checkId('site id', s);
  } else {
    if (!a.region) throw new CarewatchError('ARG_INVALID', `role ${role} needs --region`);
    checkId('region id', a.region);
    regionId = a.region;
  }
  const password = a.password ?? randomSecret(12);
  if (password.length < 8) throw new CarewatchError('ARG_INVALID', 'password must be at least 8 characters');
  const store = await openCentralStore(a);
  try {
    if (regionId && !(await store.registry.regions()).some((r) => r.id === regionId)) {
      throw new CarewatchError(
        'ARG_INVALID',
        `region '${regionId}' does not exist: add it with 'carewatch region add'`,
      );
    }
    const existing = await store.users.byUsername(a.username);
    await store.users.putUser({
      id: existing?.id ?? mintId(),
      username: a.username,
      passwordHash: await hashPassword(password),
      role,
      siteIds,
      regionId,
    });
  } finally {
    await store.close();
  }
  return { username: a.username, password };
}

/** Adds or renames a region of the tree province → city → district/county → street. */
export async function addRegion(a: {
  dataDir: string;
  id: string;
  name: string;
  level: string;
  parent?: string;
}) {
  checkId('region id', a.id);
  if (!REGION_LEVELS.includes(a.level as RegionLevel)) {
    throw new CarewatchError('ARG_INVALID', `level '${a.level}' is not one of ${REGION_LEVELS.join(', ')}`);
  }
  const store = await openCentralStore(a);
  try {
    const regions = await store.registry.regions();
    if (a.parent && !regions.some((r) => r.id === a.parent)) {
      throw new CarewatchError('ARG_INVALID', `parent region '${a.parent}' does not exist`);
    }
    await store.registry.upsertRegion({
      id: a.id,
      parentId: a.parent ?? null,
      name: a.name,
      level: a.level as RegionLevel,
    });
  } finally {
    await store.close();
  }
}
