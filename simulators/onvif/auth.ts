/**
 * WS-Security UsernameToken (OASIS UsernameToken Profile 1.0) as ONVIF devices
 * check it: PasswordDigest = Base64(SHA1(nonce + created + password)), with the
 * nonce Base64-decoded first. PasswordText is accepted too.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { attrOf, headerOf, textOf } from './soap.js';

export type AuthResult = 'ok' | 'missing' | 'invalid';

export interface Credentials {
  username: string;
  password: string;
}

export interface VerifyOptions {
  now?: number;
  /** Largest accepted |now − Created|. Default 5 minutes. */
  maxSkewMs?: number;
  /** Nonces seen recently, to refuse replays (mutated). */
  seenNonces?: NonceCache;
}

/** Bounded memory of recently used nonces. */
export class NonceCache {
  private readonly seen = new Map<string, number>();
  constructor(private readonly max = 1000) {}

  /** Records the nonce; false when it was already used. */
  use(nonce: string, now: number): boolean {
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, now);
    if (this.seen.size > this.max) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return true;
  }
}

export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]))
    .digest('base64');
}

/** Checks the UsernameToken of a SOAP request against the allowed users. */
export function verifyUsernameToken(xml: string, users: Credentials[], opts: VerifyOptions = {}): AuthResult {
  const header = headerOf(xml);
  if (!/<(?:[\w.-]+:)?UsernameToken\b/.test(header)) return 'missing';
  const username = textOf(header, 'Username');
  const password = textOf(header, 'Password');
  if (!username || password === undefined) return 'invalid';
  const user = users.find((u) => u.username === username);
  if (!user) return 'invalid';
  const type = attrOf(header, 'Password', 'Type') ?? '';
  if (type.endsWith('#PasswordText')) return safeEqual(password, user.password) ? 'ok' : 'invalid';

  const nonceB64 = textOf(header, 'Nonce');
  const created = textOf(header, 'Created');
  if (!nonceB64 || !created) return 'invalid';
  const now = opts.now ?? Date.now();
  const createdMs = Date.parse(created);
  if (Number.isNaN(createdMs) || Math.abs(now - createdMs) > (opts.maxSkewMs ?? 5 * 60_000)) return 'invalid';
  const expected = passwordDigest(Buffer.from(nonceB64, 'base64'), created, user.password);
  if (!safeEqual(password, expected)) return 'invalid';
  if (opts.seenNonces && !opts.seenNonces.use(nonceB64, now)) return 'invalid';
  return 'ok';
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
