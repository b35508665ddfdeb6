import { Type } from '@sinclair/typebox';
import type { EscalationConfig } from './escalation.js';

/** One level of an escalation chain in central.yaml (`alerts.escalation.chains[].levels[]`). */
export const EscalationLevelSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    /** Seconds without an acknowledgement before the next level is called. */
    waitS: Type.Number({ exclusiveMinimum: 0, maximum: 86400 }),
    /** Reminders to this level while the alert stays open here; at the top level they end the chain. */
    repeats: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    /** Seconds between reminders; default waitS / (repeats + 1). */
    repeatEveryS: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 86400 })),
  },
  { additionalProperties: false },
);

/**
 * Checks what the schema cannot: a level's reminders must fit into its wait.
 * Returns `path: reason` for the first problem (paths relative to
 * `alerts.escalation`, e.g. `/chains/0/levels/1/repeatEveryS`), or null.
 */
export function escalationProblem(config: EscalationConfig): string | null {
  // the default chain: the same reminders at every level, ackTimeoutS apart
  const fallback = levelProblem(
    '',
    config.levels.length === 1,
    { waitS: config.ackTimeoutS, repeats: config.repeats, repeatEveryS: config.repeatEveryS },
    'ackTimeoutS',
  );
  if (fallback) return fallback;
  for (const [i, chain] of (config.chains ?? []).entries()) {
    for (const [j, level] of chain.levels.entries()) {
      const problem = levelProblem(`/chains/${i}/levels/${j}`, j === chain.levels.length - 1, level);
      if (problem) return problem;
    }
  }
  return null;
}

function levelProblem(
  at: string,
  top: boolean,
  level: { waitS: number; repeats?: number | undefined; repeatEveryS?: number | undefined },
  wait = 'waitS',
): string | null {
  const repeats = level.repeats ?? 0;
  if (level.repeatEveryS === undefined) return null;
  if (repeats === 0) return `${at}/repeatEveryS: given without repeats (repeats is 0)`;
  if (level.repeatEveryS > level.waitS) {
    return `${at}/repeatEveryS: ${level.repeatEveryS} s is longer than the level's ${wait} (${level.waitS} s)`;
  }
  if (!top && repeats * level.repeatEveryS >= level.waitS) {
    return (
      `${at}/repeats: ${repeats} reminders every ${level.repeatEveryS} s do not all come before ` +
      `the climb after ${wait} (${level.waitS} s); lower repeats or repeatEveryS`
    );
  }
  return null;
}
