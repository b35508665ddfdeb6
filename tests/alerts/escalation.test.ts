import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chainFor,
  dueStep,
  type EscalationChain,
  type LevelPlan,
  levelPlan,
  nextDeadline,
  nextOffset,
} from '../../alerts/escalation.js';

const chain = (levels: EscalationChain['levels']): EscalationChain => ({ name: 'c', levels });

describe('escalation level plans', () => {
  it('spaces reminders waitS / (repeats + 1) apart by default, all before the climb', () => {
    const p = levelPlan(
      chain([
        { name: 'a', waitS: 60, repeats: 2 },
        { name: 'b', waitS: 60 },
      ]),
      0,
    )!;
    expect(p).toEqual({ repeats: 2, everyMs: 20_000, climbMs: 60_000 });
    expect([0, 1, 2].map((k) => nextOffset(p, k))).toEqual([20_000, 40_000, 60_000]);
  });

  it('keeps every reminder of the top level and then has nothing more', () => {
    const p = levelPlan(
      chain([
        { name: 'a', waitS: 10 },
        { name: 'b', waitS: 90, repeats: 3, repeatEveryS: 30 },
      ]),
      1,
    )!;
    expect(p).toEqual({ repeats: 3, everyMs: 30_000, climbMs: null });
    expect([0, 1, 2, 3].map((k) => nextOffset(p, k))).toEqual([30_000, 60_000, 90_000, null]);
  });

  it('drops reminders that would come at or after the climb', () => {
    const p = levelPlan(
      chain([
        { name: 'a', waitS: 60, repeats: 5, repeatEveryS: 20 },
        { name: 'b', waitS: 1 },
      ]),
      0,
    )!;
    expect(p.repeats).toBe(2); // 20 s and 40 s; 60 s is the climb itself
  });

  it('rounds fractional spacing to whole milliseconds', () => {
    const p = levelPlan(
      chain([
        { name: 'a', waitS: 10, repeats: 2 },
        { name: 'b', waitS: 1 },
      ]),
      0,
    )!;
    expect([0, 1].map((k) => nextOffset(p, k))).toEqual([3_333, 6_667]);
  });

  it('gives the first deadline of a level: a reminder when it has any, else the climb', () => {
    const cfg = {
      ackTimeoutS: 60,
      levels: ['x', 'y'],
      chains: [
        chain([
          { name: 'a', waitS: 60, repeats: 1 },
          { name: 'b', waitS: 60 },
        ]),
      ],
    };
    const at = { siteId: 's', type: 't' };
    expect(nextDeadline(cfg, at, 0, 1_000)).toBe(31_000);
    expect(nextDeadline(cfg, at, 1, 1_000)).toBeNull();
    expect(nextDeadline({ ackTimeoutS: 60, levels: ['x', 'y'] }, at, 0, 1_000)).toBe(61_000);
  });

  it('gives every level of the default chain its repeats', () => {
    const cfg = { ackTimeoutS: 90, levels: ['x', 'y'], repeats: 2 };
    const chain = chainFor(cfg, { siteId: 's', type: 't' });
    expect(levelPlan(chain, 0)).toEqual({ repeats: 2, everyMs: 30_000, climbMs: 90_000 });
    expect(levelPlan(chain, 1)).toEqual({ repeats: 2, everyMs: 30_000, climbMs: null });
  });
});

describe('what a due alert does', () => {
  const p: LevelPlan = { repeats: 5, everyMs: 10_000, climbMs: 60_000 };

  it('sends the due reminder on time and schedules the next one from the level start', () => {
    expect(dueStep(p, 0, 10_000, 10_000)).toEqual({ kind: 'repeat', toRepeat: 1, missed: 0, nextAt: 20_000 });
    expect(dueStep(p, 4, 50_000, 50_000)).toEqual({ kind: 'repeat', toRepeat: 5, missed: 0, nextAt: 60_000 });
  });

  it('sends one catch-up reminder for several missed ones', () => {
    expect(dueStep(p, 0, 10_000, 37_000)).toEqual({ kind: 'repeat', toRepeat: 3, missed: 2, nextAt: 40_000 });
  });

  it('climbs instead when the climb is due too, and at the end of the reminders', () => {
    expect(dueStep(p, 1, 20_000, 61_000)).toEqual({ kind: 'climb' });
    expect(dueStep(p, 5, 60_000, 60_000)).toEqual({ kind: 'climb' });
    expect(dueStep(null, 0, 1, 1)).toEqual({ kind: 'climb' });
  });

  it('stops after the last reminder of the top level', () => {
    const top: LevelPlan = { repeats: 2, everyMs: 5_000, climbMs: null };
    expect(dueStep(top, 1, 10_000, 10_000)).toEqual({ kind: 'repeat', toRepeat: 2, missed: 0, nextAt: null });
    expect(dueStep(top, 0, 5_000, 99_000)).toEqual({ kind: 'repeat', toRepeat: 2, missed: 1, nextAt: null });
  });

  it('for any plan and any times the service happens to run: at most N reminders, none at or after the climb', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 1, max: 600 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 0, max: 400_000 }), { minLength: 1, maxLength: 30 }),
        (n, waitS, top, gaps) => {
          const levels = [{ name: 'a', waitS, repeats: n }];
          if (!top) levels.push({ name: 'b', waitS: 1, repeats: 0 });
          const plan = levelPlan(chain(levels), 0)!;
          const start = 1_000_000;
          let sent = 0;
          let reminders = 0;
          let climbed = false;
          const first = nextOffset(plan, 0);
          let deadline = first === null ? null : start + first;
          let now = start;
          for (const gap of gaps) {
            now += gap;
            // the escalator only looks at alerts whose deadline passed
            while (deadline !== null && deadline <= now && !climbed) {
              const step = dueStep(plan, sent, deadline, now);
              if (step.kind === 'climb') {
                climbed = true;
                expect(plan.climbMs).not.toBeNull();
                expect(now).toBeGreaterThanOrEqual(start + plan.climbMs!);
                break;
              }
              expect(step.toRepeat).toBeGreaterThan(sent);
              if (plan.climbMs !== null) expect(now).toBeLessThan(start + plan.climbMs);
              reminders++;
              sent = step.toRepeat;
              deadline = step.nextAt;
              // never a second reminder in the same pass: the next one lies ahead
              if (deadline !== null) expect(deadline).toBeGreaterThan(now);
            }
          }
          expect(reminders).toBeLessThanOrEqual(n);
          expect(sent).toBeLessThanOrEqual(n);
        },
      ),
      { numRuns: 300 },
    );
  });
});
