import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { CarewatchError } from '../lib/errors.js';
import { randomSecret, verifyPassword } from '../lib/passwords.js';
import type { RegistryRepo, User, UserRepo } from '../storage/types.js';
import { resolveScope, type Scope } from './scope.js';

export const SESSION_COOKIE = 'cw_session';
const SESSION_TTL_MS = 12 * 3600_000;

export interface AuthContext {
  user: User;
  scope: Scope;
  csrf: string;
  /** Cookie-authenticated requests must carry the CSRF token on state changes. */
  viaCookie: boolean;
}

const hashToken = (t: string) => createHash('sha256').update(t).digest('hex');

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

/**
 * Fixed-window limiter of failed logins: `max` failures per key and window,
 * then the key is refused until the window ends. Keys are a user name or a
 * client address (with a higher budget: a control room shares one address).
 */
export class LoginLimiter {
  private readonly failures = new Map<string, { n: number; until: number }>();

  constructor(private readonly windowMs = 60_000) {}

  blocked(key: string, max: number, now = Date.now()): boolean {
    const h = this.failures.get(key);
    return h !== undefined && h.until > now && h.n >= max;
  }

  fail(key: string, now = Date.now()): void {
    const h = this.failures.get(key);
    if (!h || h.until <= now) {
      if (this.failures.size > 50_000) this.failures.clear();
      this.failures.set(key, { n: 1, until: now + this.windowMs });
    } else h.n++;
  }
}

export class Sessions {
  constructor(
    private readonly users: UserRepo,
    private readonly registry: RegistryRepo,
  ) {}

  async login(
    username: string,
    password: string,
  ): Promise<{ token: string; csrf: string; user: User } | null> {
    const user = await this.users.byUsername(username);
    // verify against a dummy hash when the user does not exist, so timing does not tell
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok) return null;
    const token = randomSecret(32);
    const csrf = randomSecret(16);
    await this.users.createSession(
      hashToken(token),
      { userId: user.id, csrf, expiresAt: Date.now() + SESSION_TTL_MS },
      Date.now(),
    );
    return { token, csrf, user };
  }

  async logout(token: string): Promise<void> {
    await this.users.deleteSession(hashToken(token));
  }

  /** Bearer token or session cookie; null when neither is valid. */
  async fromRequest(req: Pick<FastifyRequest, 'headers'>): Promise<AuthContext | null> {
    const auth = req.headers.authorization;
    let token: string | undefined;
    let viaCookie = false;
    if (auth?.startsWith('Bearer ')) token = auth.slice(7).trim();
    else {
      token = parseCookies(req.headers.cookie)[SESSION_COOKIE];
      viaCookie = true;
    }
    if (!token) return null;
    const s = await this.users.session(hashToken(token), Date.now());
    if (!s) return null;
    const user = await this.users.byId(s.userId);
    return user ? { user, scope: await resolveScope(user, this.registry), csrf: s.csrf, viaCookie } : null;
  }

  async require(req: FastifyRequest): Promise<AuthContext> {
    const ctx = await this.fromRequest(req);
    if (!ctx) throw new CarewatchError('AUTH_REQUIRED', 'log in first: no valid session token or cookie');
    if (ctx.viaCookie && req.method !== 'GET' && req.method !== 'HEAD') {
      const sent = req.headers['x-csrf-token'];
      if (sent !== ctx.csrf) throw new CarewatchError('CSRF_INVALID', 'missing or wrong x-csrf-token header');
    }
    return ctx;
  }
}

// scrypt hash of a random string nobody knows; only used to spend equal time
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
