import { type Static, Type } from '@sinclair/typebox';
import { defineKind } from '../envelope.js';

/** Fire-control-room attendance: badge/face readers and presence sensors. */
export const AttendanceData = Type.Object(
  {
    source: Type.Union([Type.Literal('badge'), Type.Literal('face'), Type.Literal('presence')]),
    action: Type.Union([Type.Literal('check_in'), Type.Literal('check_out'), Type.Literal('occupancy')]),
    operatorId: Type.Optional(Type.String({ maxLength: 64 })),
    count: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    room: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type AttendanceData = Static<typeof AttendanceData>;
export const attendance = defineKind('attendance', 'events', AttendanceData, 'fire-control room attendance');

/** A remote post check (查岗) answered or missed at the site. */
export const PostCheckData = Type.Object(
  {
    checkId: Type.String({ maxLength: 64 }),
    outcome: Type.Union([Type.Literal('answered'), Type.Literal('missed')]),
    via: Type.Union([Type.Literal('console'), Type.Literal('gb26875')]),
    answeredBy: Type.Optional(Type.String({ maxLength: 64 })),
    latencyS: Type.Optional(Type.Number({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type PostCheckData = Static<typeof PostCheckData>;
export const postCheck = defineKind('post_check', 'events', PostCheckData, 'remote post check outcome');
