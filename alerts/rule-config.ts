import { type Static, Type } from '@sinclair/typebox';
import type { Envelope } from '../protocol/index.js';
import { SEVERITIES, type Severity } from '../storage/types.js';
import type { RuleAction } from './rules.js';

const Scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);

/**
 * A configured rule: for events of `kind` whose data fields match, open or
 * resolve an alert type. Configured rules are tried in order before the
 * built-in ones; the first match decides. Titles may use `{deviceId}`,
 * `{siteId}` and `{data.<field>}`.
 */
export const AlertRule = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    kind: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }),
    match: Type.Optional(
      Type.Record(
        Type.String({ pattern: '^[a-zA-Z][a-zA-Z0-9_]*$' }),
        Type.Union([Scalar, Type.Array(Scalar, { minItems: 1 })]),
      ),
    ),
    open: Type.Optional(
      Type.Object(
        {
          type: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }),
          severity: Type.Union(SEVERITIES.map((s) => Type.Literal(s))),
          title: Type.String({ minLength: 1, maxLength: 200 }),
          escalates: Type.Boolean({ default: false }),
        },
        { additionalProperties: false },
      ),
    ),
    resolve: Type.Optional(
      Type.Object(
        {
          type: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }),
          note: Type.String({ minLength: 1, maxLength: 200 }),
        },
        { additionalProperties: false },
      ),
    ),
    /** Record the event only: no alert change (e.g. silence a noisy built-in). */
    ignore: Type.Optional(Type.Literal(true)),
  },
  { additionalProperties: false },
);
export type AlertRule = Static<typeof AlertRule>;

/** Checks what the schema cannot: exactly one of open, resolve or ignore. Returns the problem or null. */
export function ruleProblem(r: AlertRule): string | null {
  const n = Number(r.open !== undefined) + Number(r.resolve !== undefined) + Number(r.ignore === true);
  return n === 1 ? null : `rule '${r.name}' must have exactly one of open, resolve or ignore`;
}

function fill(template: string, env: Envelope): string {
  return template.replace(/\{([a-zA-Z.]+)\}/g, (whole, path: string) => {
    if (path === 'deviceId') return env.deviceId;
    if (path === 'siteId') return env.siteId;
    if (path.startsWith('data.')) {
      const v = (env.data as Record<string, unknown>)[path.slice(5)];
      return v === undefined || v === null ? '' : String(v);
    }
    return whole;
  });
}

function matches(rule: AlertRule, env: Envelope): boolean {
  if (rule.kind !== env.kind) return false;
  const data = env.data as Record<string, unknown>;
  for (const [field, want] of Object.entries(rule.match ?? {})) {
    const have = data[field];
    if (Array.isArray(want) ? !want.includes(have as never) : have !== want) return false;
  }
  return true;
}

/** The action of the first configured rule that matches, or undefined to fall back on the built-ins. */
export function configuredAction(rules: AlertRule[], env: Envelope): RuleAction | undefined {
  const rule = rules.find((r) => matches(r, env));
  if (!rule) return undefined;
  if (rule.open) {
    return {
      op: 'open',
      type: rule.open.type,
      severity: rule.open.severity as Severity,
      title: fill(rule.open.title, env),
      escalates: rule.open.escalates,
    };
  }
  if (rule.resolve) return { op: 'resolve', type: rule.resolve.type, note: fill(rule.resolve.note, env) };
  return { op: 'none' };
}
