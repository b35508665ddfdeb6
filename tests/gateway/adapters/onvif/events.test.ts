/** Which ONVIF notification topics and items mean motion or tampering. */
import { describe, expect, it } from 'vitest';
import { interpret } from '../../../../gateway/adapters/onvif/events.js';

const n = (topic: string, items: Record<string, string>, operation = 'Changed') => ({
  topic,
  items,
  operation,
});

describe('ONVIF notification → camera event', () => {
  it('reads the ONVIF topic set and the rule-engine variants cameras use', () => {
    expect(interpret(n('tns1:VideoSource/MotionAlarm', { State: 'true' }))).toEqual({
      event: 'motion',
      active: true,
    });
    expect(interpret(n('tns1:RuleEngine/CellMotionDetector/Motion', { IsMotion: 'false' }))).toEqual({
      event: 'motion',
      active: false,
    });
    expect(interpret(n('tns1:VideoSource/GlobalSceneChange/ImagingService', { State: 'true' }))).toEqual({
      event: 'tamper',
      active: true,
    });
    expect(interpret(n('tns1:RuleEngine/TamperDetector/Tamper', { IsTamper: '1' }))).toEqual({
      event: 'tamper',
      active: true,
    });
  });

  it('ignores other topics and messages without a state', () => {
    expect(interpret(n('tns1:Device/Trigger/DigitalInput', { LogicalState: 'true' }))).toBeUndefined();
    expect(interpret(n('tns1:VideoSource/MotionAlarm', {}))).toBeUndefined();
  });
});
