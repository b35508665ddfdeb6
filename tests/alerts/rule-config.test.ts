import { describe, expect, it } from 'vitest';
import { type AlertRule, configuredAction, ruleProblem } from '../../alerts/rule-config.js';
import { CentralConfig } from '../../central/config.js';
import { validateConfig } from '../../lib/config.js';
import { buildEnvelope } from '../../protocol/index.js';

const call = (action: 'pressed' | 'cancelled' | 'battery_low', room?: string) =>
  buildEnvelope({
    kind: 'emergency_call',
    siteId: 's1',
    deviceId: 'btn-9',
    seq: 0,
    data: { action, ...(room ? { room } : {}) },
  });

describe('configured alert rules', () => {
  const rules: AlertRule[] = [
    { name: 'quiet batteries', kind: 'emergency_call', match: { action: 'battery_low' }, ignore: true },
    {
      name: 'toilet calls are major',
      kind: 'emergency_call',
      match: { action: 'pressed', room: ['WC-1', 'WC-2'] },
      open: {
        type: 'toilet_call',
        severity: 'major',
        title: '卫生间呼叫 {data.room} ({deviceId})',
        escalates: true,
      },
    },
  ];

  it('tries configured rules first, with field matches and title templates', () => {
    expect(configuredAction(rules, call('battery_low'))).toEqual({ op: 'none' });
    expect(configuredAction(rules, call('pressed', 'WC-2'))).toEqual({
      op: 'open',
      type: 'toilet_call',
      severity: 'major',
      title: '卫生间呼叫 WC-2 (btn-9)',
      escalates: true,
    });
    expect(configuredAction(rules, call('pressed', '101'))).toBeUndefined(); // falls back on the built-ins
    expect(configuredAction(rules, call('cancelled', 'WC-2'))).toBeUndefined();
  });

  it('refuses invalid rules at start-up with the path and the reason', () => {
    expect(() =>
      validateConfig(
        CentralConfig,
        {
          alerts: {
            rules: [{ name: 'x', kind: 'emergency_call', open: { type: 'a', severity: 'loud', title: 't' } }],
          },
        },
        'central.yaml',
      ),
    ).toThrow(/central\.yaml: .*\/alerts\/rules\/0\/open\/severity/);
    const both = validateConfig(
      CentralConfig,
      {
        alerts: {
          rules: [
            {
              name: 'both',
              kind: 'emergency_call',
              open: { type: 'a', severity: 'info', title: 't' },
              resolve: { type: 'a', note: 'n' },
            },
          ],
        },
      },
      'central.yaml',
    );
    expect(ruleProblem(both.alerts.rules[0]!)).toContain('exactly one of open, resolve or ignore');
  });
});
