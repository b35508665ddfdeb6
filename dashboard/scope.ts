import type { Alert, Region, RegistryRepo, Role, Site, User } from '../storage/types.js';

/** Alert types fire rescue sees: fire and the fire-control room. */
export const FIRE_ALERT_TYPES = [
  'fire_alarm',
  'supervisory',
  'part_shielded',
  'panel_trouble',
  'panel_offline',
  'post_check_missed',
  'fire_room_understaffed',
  'operator_certificate_expired',
] as const;
export const FIRE_EVENT_KINDS = ['panel_alarm', 'panel_status', 'post_check', 'attendance'] as const;

export interface Capabilities {
  acknowledge: boolean;
  resolve: boolean;
  /** Send commands to gateways (retention policy, post checks, ...). */
  command: boolean;
  /**
   * Browse recordings, take snapshots and cut clips of any camera in scope.
   * Without it a user still sees the clip of an alarm they may see.
   */
  video: boolean;
  /** Read the access log of footage (who watched what, when). */
  videoAudit: boolean;
}

export const CAPABILITIES: Record<Role, Capabilities> = {
  admin: { acknowledge: true, resolve: true, command: true, video: true, videoAudit: true },
  institution_head: { acknowledge: true, resolve: true, command: true, video: true, videoAudit: true },
  institution_staff: { acknowledge: true, resolve: true, command: false, video: true, videoAudit: false },
  civil_affairs: { acknowledge: true, resolve: false, command: false, video: false, videoAudit: false },
  fire_rescue: { acknowledge: true, resolve: false, command: false, video: false, videoAudit: false },
};

/** What one user may see, resolved from role, sites and region tree. */
export interface Scope {
  role: Role;
  sites: ReadonlySet<string> | 'all';
  alertTypes: ReadonlySet<string> | 'all';
  eventKinds: ReadonlySet<string> | 'all';
  can: Capabilities;
}

/** Every region id in the subtree rooted at `rootId` (the root included). */
export function regionSubtree(regions: Region[], rootId: string): Set<string> {
  const children = new Map<string, string[]>();
  for (const r of regions)
    if (r.parentId) children.set(r.parentId, [...(children.get(r.parentId) ?? []), r.id]);
  const out = new Set<string>();
  const stack = [rootId];
  while (stack.length) {
    const id = stack.pop()!;
    if (out.has(id)) continue;
    out.add(id);
    stack.push(...(children.get(id) ?? []));
  }
  return out;
}

export function scopeOf(user: User, regions: Region[], sites: Site[]): Scope {
  const can = CAPABILITIES[user.role];
  const fire = user.role === 'fire_rescue';
  const base = {
    role: user.role,
    can,
    alertTypes: fire ? new Set<string>(FIRE_ALERT_TYPES) : ('all' as const),
    eventKinds: fire ? new Set<string>(FIRE_EVENT_KINDS) : ('all' as const),
  };
  if (user.role === 'admin') return { ...base, sites: 'all' };
  if (user.role === 'civil_affairs' || user.role === 'fire_rescue') {
    if (!user.regionId) return { ...base, sites: new Set() };
    const tree = regionSubtree(regions, user.regionId);
    return { ...base, sites: new Set(sites.filter((s) => s.region && tree.has(s.region)).map((s) => s.id)) };
  }
  return { ...base, sites: new Set(user.siteIds === '*' ? [] : user.siteIds) };
}

export async function resolveScope(user: User, registry: RegistryRepo): Promise<Scope> {
  if (user.role === 'admin') return scopeOf(user, [], []);
  const [regions, sites] = await Promise.all([registry.regions(), registry.sites()]);
  return scopeOf(user, regions, sites);
}

export function canSeeSite(scope: Scope, siteId: string): boolean {
  return scope.sites === 'all' || scope.sites.has(siteId);
}

export function canSeeAlert(scope: Scope, alert: Pick<Alert, 'siteId' | 'type'>): boolean {
  return canSeeSite(scope, alert.siteId) && (scope.alertTypes === 'all' || scope.alertTypes.has(alert.type));
}

/** Query filters: undefined means no restriction. */
export function siteFilter(scope: Scope): string[] | undefined {
  return scope.sites === 'all' ? undefined : [...scope.sites];
}

export function typeFilter(scope: Scope): string[] | undefined {
  return scope.alertTypes === 'all' ? undefined : [...scope.alertTypes];
}

export function kindFilter(scope: Scope): string[] | undefined {
  return scope.eventKinds === 'all' ? undefined : [...scope.eventKinds];
}
