import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { escalationProblem } from '../../alerts/escalation-config.js';
import { centralConfigFrom } from '../../cli/central.js';
import { isCarewatchError } from '../../lib/errors.js';
import { tempDir } from '../helpers/procs.js';

describe('escalation chain config: repeats', () => {
  const dir = tempDir('cw-esc-cfg-');
  afterAll(() => dir.cleanup());
  let n = 0;

  /** Loads central.yaml with this chain the way `carewatch central --config` does. */
  const load = (levels: string) => {
    const f = join(dir.path, `central-${n++}.yaml`);
    writeFileSync(f, `alerts:\n  escalation:\n    chains:\n      - name: calls\n        levels:\n${levels}`);
    return centralConfigFrom({ config: f });
  };
  const refusal = (levels: string): string => {
    try {
      load(levels);
    } catch (err) {
      expect(isCarewatchError(err) && err.code).toBe('CONFIG_INVALID');
      return (err as Error).message;
    }
    throw new Error('the config was accepted');
  };

  it('accepts repeats with and without a spacing, including at the top level', () => {
    const c = load(
      '          - {name: on_duty, waitS: 60, repeats: 2}\n' +
        '          - {name: head, waitS: 120, repeats: 3, repeatEveryS: 30}\n' +
        '          - {name: dispatch, waitS: 30, repeats: 1, repeatEveryS: 30}\n',
    );
    expect(c.alerts.escalation.chains![0]!.levels.map((l) => [l.repeats, l.repeatEveryS])).toEqual([
      [2, undefined],
      [3, 30],
      [1, 30],
    ]);
  });

  it.each([
    [
      'negative repeats',
      '{name: a, waitS: 60, repeats: -1}',
      '/alerts/escalation/chains/0/levels/0/repeats',
      '>= 0',
    ],
    ['fractional repeats', '{name: a, waitS: 60, repeats: 1.5}', '/levels/0/repeats', 'integer'],
    ['zero spacing', '{name: a, waitS: 60, repeats: 1, repeatEveryS: 0}', '/levels/0/repeatEveryS', '> 0'],
    ['an unknown field', '{name: a, waitS: 60, repeat: 1}', '/levels/0', "additional properties 'repeat'"],
    [
      'a spacing longer than the wait',
      '{name: a, waitS: 60, repeats: 1, repeatEveryS: 61}',
      '/alerts/escalation/chains/0/levels/0/repeatEveryS',
      "longer than the level's waitS (60 s)",
    ],
    [
      'a spacing without repeats',
      '{name: a, waitS: 60, repeatEveryS: 10}',
      '/alerts/escalation/chains/0/levels/0/repeatEveryS',
      'without repeats',
    ],
    [
      'reminders that do not fit before the climb',
      '{name: a, waitS: 60, repeats: 3, repeatEveryS: 20}',
      '/alerts/escalation/chains/0/levels/0/repeats',
      'do not all come before the climb',
    ],
  ])('refuses %s with the path and the reason', (_what, level, path, reason) => {
    const message = refusal(`          - ${level}\n          - {name: b, waitS: 60}\n`);
    expect(message).toContain(path);
    expect(message).toContain(reason);
  });

  it('takes repeats for every level of the default chain, checked against ackTimeoutS', () => {
    const write = (yaml: string) => {
      const f = join(dir.path, `central-${n++}.yaml`);
      writeFileSync(f, `alerts:\n  escalation:\n${yaml}`);
      return f;
    };
    const ok = centralConfigFrom({ config: write('    ackTimeoutS: 90\n    repeats: 2\n') });
    expect(ok.alerts.escalation).toMatchObject({ ackTimeoutS: 90, repeats: 2 });
    expect(() =>
      centralConfigFrom({ config: write('    ackTimeoutS: 60\n    repeats: 2\n    repeatEveryS: 30\n') }),
    ).toThrow(/\/alerts\/escalation\/repeats: 2 reminders every 30 s .* after ackTimeoutS \(60 s\)/);
    expect(() => centralConfigFrom({ config: write('    repeats: -2\n') })).toThrow(
      /\/alerts\/escalation\/repeats: must be >= 0/,
    );
  });

  it('checks each chain and level and names the first bad one', () => {
    expect(
      escalationProblem({
        ackTimeoutS: 60,
        levels: ['x'],
        chains: [
          { name: 'ok', levels: [{ name: 'a', waitS: 60, repeats: 2 }] },
          {
            name: 'bad',
            levels: [
              { name: 'a', waitS: 60 },
              { name: 'b', waitS: 10, repeats: 1, repeatEveryS: 11 },
            ],
          },
        ],
      }),
    ).toMatch(/^\/chains\/1\/levels\/1\/repeatEveryS: /);
    expect(escalationProblem({ ackTimeoutS: 60, levels: ['x'] })).toBeNull();
  });
});
