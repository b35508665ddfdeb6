/** The central's HTTP API, with the session cookie and the CSRF header. */
export interface Me {
  username: string;
  role: string;
  siteIds: string[] | '*';
  regionId: string | null;
  can: { acknowledge: boolean; resolve: boolean; command: boolean; video: boolean; videoAudit: boolean };
}

export interface Alert {
  id: string;
  siteId: string;
  source: string;
  type: string;
  severity: string;
  state: 'open' | 'acknowledged' | 'resolved';
  title: string;
  count: number;
  openedAt: number;
  ackedAt: number | null;
  ackedBy: string | null;
  resolvedAt: number | null;
  escalationLevel: number;
  repeatCount?: number;
  nextEscalationAt: number | null;
  suppressed: string | null;
  drill: boolean;
}

let csrf = '';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const r = await fetch(path, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(init.method && init.method !== 'GET' ? { 'x-csrf-token': csrf } : {}),
    },
    body: init.body !== undefined ? JSON.stringify(init.body) : null,
  });
  const body = (await r.json().catch(() => ({}))) as { error?: { code: string; message: string } };
  if (!r.ok) throw new ApiError(r.status, body.error?.code ?? 'HTTP', body.error?.message ?? r.statusText);
  return body as T;
}

export async function me(): Promise<Me | null> {
  try {
    const r = await api<{ user: Me; csrf: string }>('/api/me');
    csrf = r.csrf;
    return r.user;
  } catch {
    return null;
  }
}

export async function login(username: string, password: string): Promise<Me> {
  const r = await api<{ user: Me; csrf: string }>('/api/session', {
    method: 'POST',
    body: { username, password },
  });
  csrf = r.csrf;
  return r.user;
}

export async function logout(): Promise<void> {
  await api('/api/session', { method: 'DELETE' }).catch(() => undefined);
  csrf = '';
}
