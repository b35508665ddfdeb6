import { createHash } from 'node:crypto';
import { verifyPassword } from '../lib/passwords.js';
import type { RegistryRepo } from '../storage/types.js';
import type { GatewayIdentity } from './acl.js';

/**
 * Checks a gateway's username/password against its scrypt hash. A successful
 * check is remembered for a while (keyed by a SHA-256 of the presented
 * secret, never the secret itself) so a reconnect storm does not cost one
 * scrypt per connection.
 */
export class GatewayCredentials {
  private readonly cache = new Map<string, { identity: GatewayIdentity; until: number }>();

  constructor(
    private readonly registry: RegistryRepo,
    private readonly ttlMs = 10 * 60_000,
  ) {}

  async verify(gatewayId: string, password: Buffer | string): Promise<GatewayIdentity | null> {
    const key = `${gatewayId}\0${createHash('sha256').update(password).digest('hex')}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.identity;
    const g = await this.registry.gateway(gatewayId);
    if (!g || g.disabled) return null;
    if (!(await verifyPassword(password.toString(), g.secretHash))) return null;
    const identity = { gatewayId: g.id, siteId: g.siteId };
    this.cache.set(key, { identity, until: Date.now() + this.ttlMs });
    return identity;
  }

  forget(gatewayId: string): void {
    for (const k of this.cache.keys()) if (k.startsWith(`${gatewayId}\0`)) this.cache.delete(k);
  }
}
