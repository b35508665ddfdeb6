import { mintId } from './ids.js';
import type { EnvelopeOf, KindName } from './kinds/index.js';
import { PROTOCOL_VERSION } from './version.js';

/** Builds an envelope at the source: mints the id and stamps the time. */
export function buildEnvelope<K extends KindName>(args: {
  kind: K;
  siteId: string;
  deviceId: string;
  seq: number;
  data: EnvelopeOf<K>['data'];
  ts?: Date;
  drill?: boolean;
  id?: string;
}): EnvelopeOf<K> {
  const env = {
    v: PROTOCOL_VERSION,
    id: args.id ?? mintId(),
    siteId: args.siteId,
    deviceId: args.deviceId,
    kind: args.kind,
    ts: (args.ts ?? new Date()).toISOString(),
    seq: args.seq,
    data: args.data,
    ...(args.drill ? { drill: true } : {}),
  };
  return env as unknown as EnvelopeOf<K>;
}
