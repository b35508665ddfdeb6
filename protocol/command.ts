import { type Static, Type } from '@sinclair/typebox';
import { EventId } from './ids.js';
import { PROTOCOL_VERSION } from './version.js';

/** Central -> gateway on `.../cmd/{name}`. */
export const Command = Type.Object(
  {
    v: Type.Literal(PROTOCOL_VERSION),
    id: EventId,
    name: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }),
    ts: Type.String({ format: 'date-time' }),
    args: Type.Object({}, { additionalProperties: true }),
  },
  { additionalProperties: false },
);
export type Command = Static<typeof Command>;

/** Gateway -> central on `.../cmd/{name}/reply`. */
export const CommandReply = Type.Object(
  {
    v: Type.Literal(PROTOCOL_VERSION),
    id: EventId,
    ts: Type.String({ format: 'date-time' }),
    ok: Type.Boolean(),
    result: Type.Optional(Type.Object({}, { additionalProperties: true })),
    error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
  },
  { additionalProperties: false },
);
export type CommandReply = Static<typeof CommandReply>;
