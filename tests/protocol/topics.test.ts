import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commandReplyTopic, commandTopic, parseTopic, siteTopic } from '../../protocol/index.js';

describe('topics', () => {
  it('round-trips every channel, command and reply topic', () => {
    const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,20}$/);
    fc.assert(
      fc.property(
        id,
        id,
        fc.constantFrom('events', 'telemetry', 'status', 'inventory' as const),
        (s, c, ch) => {
          expect(parseTopic(siteTopic(s, ch))).toEqual({ siteId: s, type: 'channel', channel: ch });
          expect(parseTopic(commandTopic(s, c))).toEqual({ siteId: s, type: 'command', command: c });
          expect(parseTopic(commandReplyTopic(s, c))).toEqual({ siteId: s, type: 'reply', command: c });
        },
      ),
    );
  });

  it('rejects foreign and malformed topics', () => {
    for (const t of [
      'carewatch/v2/sites/s1/events',
      'carewatch/v1/sites/s1/evil',
      'carewatch/v1/sites//events',
      'carewatch/v1/sites/+/events',
      'carewatch/v1/sites/s1/events/extra',
      'carewatch/v1/sites/s1/cmd',
      'carewatch/v1/sites/s1/cmd/x/reply/y',
      'zigbee2mqtt/button',
    ]) {
      expect(parseTopic(t), t).toBeNull();
    }
  });

  it('answers a topic seen before the same, frozen, and keeps answering right past its memory bound', () => {
    const t = siteTopic('s-memo', 'events');
    const first = parseTopic(t);
    expect(parseTopic(t)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => {
      (first as { siteId: string }).siteId = 'other';
    }).toThrow(TypeError);
    // more distinct topics than the memory holds (valid and not): every answer still parsed right
    for (let i = 0; i < 20_000; i++) {
      const site = `s${i}`;
      expect(parseTopic(siteTopic(site, 'status'))).toEqual({
        siteId: site,
        type: 'channel',
        channel: 'status',
      });
      expect(parseTopic(`carewatch/v1/sites/${site}/nope`)).toBeNull();
    }
    expect(parseTopic(t)).toEqual({ siteId: 's-memo', type: 'channel', channel: 'events' });
    // a topic too long to be a carewatch one takes the path that is not remembered, and is still refused
    const long = `carewatch/v1/sites/${'x'.repeat(200)}/events`;
    expect(parseTopic(long)).toBeNull();
  });

  it('never throws on arbitrary strings', () => {
    fc.assert(fc.property(fc.string(), (s) => void parseTopic(`carewatch/v1/sites/${s}`)));
  });
});
