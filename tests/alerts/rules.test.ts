import { describe, expect, it } from 'vitest';
import { actionForEvent } from '../../alerts/rules.js';
import { buildEnvelope, type EnvelopeOf, type KindName } from '../../protocol/index.js';

const env = <K extends KindName>(kind: K, data: EnvelopeOf<K>['data'], deviceId = 'dev-1') =>
  buildEnvelope({ kind, siteId: 's1', deviceId, seq: 0, data });

describe('alert rules', () => {
  it('opens and restores panel alarms by category', () => {
    const cases: Array<[string, string, string]> = [
      ['fire', 'fire_alarm', 'critical'],
      ['medical', 'medical_alarm', 'critical'],
      ['panic', 'panic_alarm', 'critical'],
      ['duress', 'panic_alarm', 'critical'],
      ['burglary', 'intrusion', 'major'],
      ['trouble', 'panel_trouble', 'minor'],
      ['power_fault', 'panel_trouble', 'major'],
    ];
    for (const [category, type, severity] of cases) {
      const data = {
        protocol: 'dc09-cid',
        category,
        qualifier: 'new',
        code: 'x',
        zone: '3',
      } as EnvelopeOf<'panel_alarm'>['data'];
      expect(actionForEvent(env('panel_alarm', data)), category).toMatchObject({
        op: 'open',
        type,
        severity,
      });
      expect(actionForEvent(env('panel_alarm', { ...data, qualifier: 'restore' })), category).toMatchObject({
        op: 'resolve',
        type,
      });
    }
    const test = { protocol: 'dc09-cid', category: 'test', qualifier: 'new', code: '602' } as const;
    expect(actionForEvent(env('panel_alarm', test))).toEqual({ op: 'none' });
  });

  it('escalates life-safety alarms only', () => {
    const fire = actionForEvent(
      env('panel_alarm', { protocol: 'gb26875', category: 'fire', qualifier: 'new', code: 'part' }),
    );
    const trouble = actionForEvent(
      env('panel_alarm', { protocol: 'gb26875', category: 'fault', qualifier: 'new', code: 'part' }),
    );
    expect(fire).toMatchObject({ escalates: true });
    expect(trouble).toMatchObject({ escalates: false });
  });

  it('maps camera, recording, retention, panel supervision and post checks', () => {
    expect(actionForEvent(env('camera_state', { state: 'offline', zone: 'canteen' }))).toMatchObject({
      op: 'open',
      type: 'camera_offline',
    });
    expect(actionForEvent(env('camera_state', { state: 'online' }))).toMatchObject({
      op: 'resolve',
      type: 'camera_offline',
    });
    expect(actionForEvent(env('recording_state', { state: 'stalled' }))).toMatchObject({
      op: 'open',
      type: 'recording_stalled',
    });
    expect(actionForEvent(env('recording_state', { state: 'recording' }))).toMatchObject({
      op: 'resolve',
      type: 'recording_stalled',
    });
    const risk = { state: 'reserve_reached', policyDays: 30, forecastDays: 3.5, freeBytes: 10 } as const;
    expect(actionForEvent(env('retention_state', risk))).toMatchObject({
      op: 'open',
      type: 'retention_at_risk',
      severity: 'critical',
    });
    expect(actionForEvent(env('retention_state', { ...risk, state: 'ok' }))).toMatchObject({ op: 'resolve' });
    expect(actionForEvent(env('panel_status', { state: 'offline' }))).toMatchObject({
      op: 'open',
      type: 'panel_offline',
    });
    expect(
      actionForEvent(env('post_check', { checkId: 'c1', outcome: 'missed', via: 'console' })),
    ).toMatchObject({
      op: 'open',
      type: 'post_check_missed',
    });
    expect(actionForEvent(env('post_check', { checkId: 'c1', outcome: 'answered', via: 'console' }))).toEqual(
      { op: 'none' },
    );
  });
  it('camera tampering opens a camera_tamper warning and its end resolves it; motion is recorded only', () => {
    expect(actionForEvent(env('camera_event', { event: 'tamper', active: true }, 'cam-gate'))).toEqual({
      op: 'open',
      type: 'camera_tamper',
      severity: 'warning',
      title: expect.stringContaining('cam-gate'),
      escalates: false,
    });
    expect(actionForEvent(env('camera_event', { event: 'tamper', active: false }))).toMatchObject({
      op: 'resolve',
      type: 'camera_tamper',
    });
    expect(actionForEvent(env('camera_event', { event: 'motion', active: true }))).toEqual({ op: 'none' });
    expect(actionForEvent(env('camera_event', { event: 'motion', active: false }))).toEqual({ op: 'none' });
  });
});
