import { parseTopic } from '../protocol/index.js';

/**
 * What a gateway may do on the central broker. A gateway belongs to exactly
 * one site. It may publish only its own site's channels and command replies,
 * and subscribe only to its own site's command topics.
 */
export interface GatewayIdentity {
  gatewayId: string;
  siteId: string;
}

export type AclDecision = { ok: true } | { ok: false; reason: string };

export function mayPublish(who: GatewayIdentity, topic: string): AclDecision {
  const t = parseTopic(topic);
  if (!t) return { ok: false, reason: `topic '${topic}' is not a carewatch site topic` };
  if (t.siteId !== who.siteId) {
    return {
      ok: false,
      reason: `gateway ${who.gatewayId} of site ${who.siteId} may not publish to site ${t.siteId}`,
    };
  }
  if (t.type === 'command') return { ok: false, reason: 'gateways may not publish commands' };
  return { ok: true };
}

export function maySubscribe(who: GatewayIdentity, filter: string): AclDecision {
  const prefix = `carewatch/v1/sites/${who.siteId}/cmd/`;
  if (!filter.startsWith(prefix)) {
    return { ok: false, reason: `gateway ${who.gatewayId} may subscribe only under ${prefix}` };
  }
  const rest = filter.slice(prefix.length);
  // one level: a command name or '+'; never '#', never replies of others
  if (rest === '+' || /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(rest)) return { ok: true };
  return { ok: false, reason: `filter '${filter}' is wider than this gateway's command topics` };
}
