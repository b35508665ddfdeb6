import { type Static, type TObject, type TSchema, Type } from '@sinclair/typebox';
import { DeviceId, EventId, SiteId } from './ids.js';
import type { Channel } from './topics.js';
import { PROTOCOL_VERSION } from './version.js';

/** The fields every envelope carries, whatever its kind. */
export const EnvelopeBase = {
  v: Type.Literal(PROTOCOL_VERSION),
  id: EventId,
  siteId: SiteId,
  deviceId: DeviceId,
  ts: Type.String({ format: 'date-time', description: 'source timestamp, ISO 8601 with zone' }),
  seq: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'per-device sequence' }),
  drill: Type.Optional(
    Type.Boolean({ description: 'true for drills and tests: recorded, never a real alarm' }),
  ),
};

/** Envelope header with an opaque data object: the first validation step. */
export const EnvelopeHeader = Type.Object(
  { ...EnvelopeBase, kind: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }), data: Type.Object({}) },
  { additionalProperties: false },
);
export type EnvelopeHeader = Static<typeof EnvelopeHeader>;

export interface KindDefinition<K extends string, D extends TSchema> {
  kind: K;
  channel: Channel;
  data: D;
  envelope: TObject;
  description: string;
}

/** Declares one message kind: its name, the channel it travels on and its data schema. */
export function defineKind<K extends string, D extends TSchema>(
  kind: K,
  channel: Channel,
  data: D,
  description: string,
) {
  const envelope = Type.Object(
    { ...EnvelopeBase, kind: Type.Literal(kind), data },
    { additionalProperties: false, $id: `carewatch/v${PROTOCOL_VERSION}/${kind}` },
  );
  return { kind, channel, data, envelope, description } as const;
}
