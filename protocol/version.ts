/**
 * The wire contract's version. It is the `v` field of every message and the
 * `v1` level of every topic. A change that old readers cannot parse bumps it;
 * adding an optional field does not.
 */
export const PROTOCOL_VERSION = 1 as const;
export const TOPIC_ROOT = `carewatch/v${PROTOCOL_VERSION}` as const;
