import { isValidId } from './ids.js';
import { TOPIC_ROOT } from './version.js';

/**
 * Topic layout, one place for every part of carewatch:
 *
 *   carewatch/v1/sites/{siteId}/events           QoS 1, envelopes (alarms, calls, state changes)
 *   carewatch/v1/sites/{siteId}/telemetry        QoS 0/1, envelopes with periodic figures (heartbeats)
 *   carewatch/v1/sites/{siteId}/status           retained, gateway online/offline (also the last will)
 *   carewatch/v1/sites/{siteId}/inventory        retained, devices/cameras/zones report
 *   carewatch/v1/sites/{siteId}/cmd/{name}       central -> gateway command
 *   carewatch/v1/sites/{siteId}/cmd/{name}/reply gateway -> central reply
 */
export type Channel = 'events' | 'telemetry' | 'status' | 'inventory';
export const CHANNELS: readonly Channel[] = ['events', 'telemetry', 'status', 'inventory'];

export const SITES_PREFIX = `${TOPIC_ROOT}/sites/`;

export function siteTopic(siteId: string, channel: Channel): string {
  return `${SITES_PREFIX}${siteId}/${channel}`;
}

export function commandTopic(siteId: string, name: string): string {
  return `${SITES_PREFIX}${siteId}/cmd/${name}`;
}

export function commandReplyTopic(siteId: string, name: string): string {
  return `${SITES_PREFIX}${siteId}/cmd/${name}/reply`;
}

/** Subscription filter a gateway uses for its own commands. */
export function commandFilter(siteId: string): string {
  return `${SITES_PREFIX}${siteId}/cmd/+`;
}

export type ParsedTopic =
  | Readonly<{ siteId: string; type: 'channel'; channel: Channel }>
  | Readonly<{ siteId: string; type: 'command'; command: string }>
  | Readonly<{ siteId: string; type: 'reply'; command: string }>;

/** Topics parsed lately: a central sees a few per site, each on every message (ACL, router, validation). */
const parsed = new Map<string, ParsedTopic | null>();
/**
 * Bound of `parsed`: room for the 4–5 topics each of 6,000+ sites publishes on; past it the memo
 * starts over (a gateway publishing to ever new topics costs at most the bound, about 10 MiB).
 */
const PARSED_MAX = 32_768;
/** Longer topics are parsed each time, never kept: the longest carewatch topic (a reply, ids of 64) has 158. */
const PARSED_KEEP_CHARS = 160;

/**
 * Parses a concrete (wildcard-free) topic; null when it is not a carewatch
 * site topic. Answers are shared (frozen) between callers.
 */
export function parseTopic(topic: string): ParsedTopic | null {
  const known = parsed.get(topic);
  if (known !== undefined) return known;
  const t = parseFresh(topic);
  if (topic.length > PARSED_KEEP_CHARS) return t === null ? null : Object.freeze(t);
  if (parsed.size >= PARSED_MAX) parsed.clear();
  parsed.set(topic, t === null ? null : Object.freeze(t));
  return t;
}

function parseFresh(topic: string): ParsedTopic | null {
  if (!topic.startsWith(SITES_PREFIX)) return null;
  const parts = topic.slice(SITES_PREFIX.length).split('/');
  const siteId = parts[0];
  if (!siteId || !isValidId(siteId)) return null;
  if (parts.length === 2) {
    const channel = parts[1] as Channel;
    return CHANNELS.includes(channel) ? { siteId, type: 'channel', channel } : null;
  }
  if (parts[1] !== 'cmd') return null;
  const command = parts[2];
  if (!command || !isValidId(command)) return null;
  if (parts.length === 3) return { siteId, type: 'command', command };
  if (parts.length === 4 && parts[3] === 'reply') return { siteId, type: 'reply', command };
  return null;
}
