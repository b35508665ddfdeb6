import { describe, expect, it } from 'vitest';
import { StateTracker, toEvents } from '../../../../gateway/adapters/gb26875/events.js';
import { postCheckMinutes } from '../../../../gateway/adapters/gb26875/objects-control.js';
import { decodeAppData, encodeAppData } from '../../../../gateway/adapters/gb26875/payload.js';
import { decodeText, encodeText } from '../../../../gateway/adapters/gb26875/text.js';

const T = [0x2d, 0x1e, 0x0e, 0x0f, 0x03, 0x18]; // 2024-03-15 14:30:45
const TIME = { second: 45, minute: 30, hour: 14, day: 15, month: 3, year: 2024 };
const AT = Date.UTC(2024, 2, 15, 6, 30, 45); // the same in UTC (device at UTC+8)
const GB_TEXT = [0xc8, 0xfd, 0xc2, 0xa5, 0xd7, 0xdf, 0xc0, 0xc8, 0xd1, 0xcc, 0xb8, 0xd0]; // 三楼走廊烟感

const opts = { device: 77, fallbackAt: 0 };

describe('GB26875 application data', () => {
  it('type 1: building fire-system state with its 2-byte flags', () => {
    // fire (bit 1) + main power fault (bit 8) + normal (bit 0) = 0x0103, LE 03 01
    const app = decodeAppData(Buffer.from([1, 1, 1, 2, 0x03, 0x01, ...T]));
    expect(app.objects).toEqual([
      {
        type: 1,
        systemType: 1,
        systemAddress: 2,
        status: 0x0103,
        flags: ['normal', 'fire', 'main_power_fault'],
        time: TIME,
      },
    ]);
    const ev = toEvents(app, opts);
    const active = ev.filter((e) => e.active).map((e) => `${e.kind}${e.detail ? `:${e.detail}` : ''}`);
    expect(active).toEqual(['fire', 'power_fault:main']);
    expect(ev.find((e) => e.kind === 'fault')).toMatchObject({
      active: false,
      system: { type: 1, address: 2 },
      at: AT,
    });
    // bits 12 and 13: configuration change and reset, momentary
    const reset = toEvents(decodeAppData(Buffer.from([1, 1, 1, 2, 0x01, 0x30, ...T])), opts);
    expect(reset.filter((e) => e.active).map((e) => e.kind)).toEqual(['config_change', 'reset']);
  });

  it('type 2: part state with GB 18030 description', () => {
    const obj = [1, 1, 40, 0x12, 0x00, 0x03, 0x00, 0x03, 0x00, ...GB_TEXT, ...new Array(19).fill(0), ...T];
    expect(obj.length).toBe(46);
    const app = decodeAppData(Buffer.from([2, 1, ...obj]));
    expect(app.objects[0]).toEqual({
      type: 2,
      systemType: 1,
      systemAddress: 1,
      partType: 40,
      partAddress: 0x00030012,
      status: 3,
      flags: ['normal', 'fire'],
      text: '三楼走廊烟感',
      time: TIME,
    });
    const ev = toEvents(app, opts);
    expect(ev.find((e) => e.kind === 'fire')).toEqual({
      kind: 'fire',
      active: true,
      device: 77,
      system: { type: 1, address: 1, name: '火灾报警系统' },
      part: { type: 40, address: 0x00030012, name: '感烟火灾探测器' },
      text: '三楼走廊烟感',
      flags: ['normal', 'fire'],
      at: AT,
      dataType: 2,
    });
    // power fault is bit 8 of the part state (0x0101)
    const pf = decodeAppData(Buffer.from([2, 1, ...obj.slice(0, 7), 0x01, 0x01, ...obj.slice(9)]));
    expect(
      toEvents(pf, opts)
        .filter((e) => e.active)
        .map((e) => `${e.kind}:${e.detail}`),
    ).toEqual(['power_fault:part']);
  });

  it('type 2: a restore (normal only) yields the same states inactive', () => {
    const restore = [1, 1, 40, 0x12, 0x00, 0x03, 0x00, 0x01, 0x00, ...new Array(31).fill(0x20), ...T];
    const ev = toEvents(decodeAppData(Buffer.from([2, 1, ...restore])), opts);
    expect(ev.map((e) => e.kind)).toEqual([
      'fire',
      'fault',
      'shield',
      'supervise',
      'start',
      'feedback',
      'delay',
      'power_fault',
    ]);
    expect(ev.every((e) => !e.active)).toBe(true);
    expect(ev[0]?.text).toBeUndefined(); // all-space description trims to nothing
  });

  it('type 4: facility operations with operator number', () => {
    // reset (bit 0) + silence (bit 1) + confirm (bit 5) = 0x23, operator 9
    const app = decodeAppData(Buffer.from([4, 1, 1, 1, 0x23, 9, ...T]));
    expect(app.objects[0]).toMatchObject({
      type: 4,
      operation: 0x23,
      operations: ['reset', 'silence', 'confirm'],
      operator: 9,
    });
    const ev = toEvents(app, opts);
    expect(ev.map((e) => `${e.kind}:${e.detail}`)).toEqual([
      'reset:operation',
      'operation:silence',
      'operation:confirm',
    ]);
    expect(ev.every((e) => e.operator === 9 && e.active)).toBe(true);
  });

  it('type 21: transmission device state', () => {
    // normal + main power fault (bit 3) + link fault (bit 5) = 0x29
    const app = decodeAppData(Buffer.from([21, 1, 0x29, ...T]));
    expect(app.objects[0]).toEqual({
      type: 21,
      status: 0x29,
      flags: ['normal', 'main_power_fault', 'link_fault'],
      time: TIME,
    });
    const ev = toEvents(app, opts);
    expect(ev.filter((e) => e.active).map((e) => `${e.kind}:${e.detail ?? ''}`)).toEqual([
      'device_state:',
      'power_fault:main',
      'link_fault:centre',
    ]);
    expect(ev.every((e) => e.system === null)).toBe(true);
    const normal = toEvents(decodeAppData(Buffer.from([21, 1, 0x01, ...T])), opts);
    expect(normal.some((e) => e.active)).toBe(false);
  });

  it('type 24: device operation, bit 5 is the post-check reply', () => {
    const app = decodeAppData(Buffer.from([24, 1, 0x20, 3, ...T]));
    expect(app.objects[0]).toEqual({
      type: 24,
      operation: 0x20,
      operations: ['post_check_reply'],
      operator: 3,
      time: TIME,
    });
    expect(toEvents(app, opts)).toEqual([
      { kind: 'post_check_reply', active: true, device: 77, system: null, operator: 3, at: AT, dataType: 24 },
    ]);
  });

  it('type 28: device time; several objects in one unit', () => {
    const app = decodeAppData(Buffer.from([28, 2, ...T, 0, 0, 0, 1, 1, 25]));
    expect(app.objects).toEqual([
      { type: 28, time: TIME },
      { type: 28, time: { second: 0, minute: 0, hour: 0, day: 1, month: 1, year: 2025 } },
    ]);
    expect(toEvents(app, opts)).toEqual([]);
  });

  it('type 91: the post-check command carries the timeout in minutes', () => {
    expect(encodeAppData([{ type: 91, timeoutMin: 10 }]).toString('hex')).toBe('5b010a');
    expect(decodeAppData(Buffer.from([91, 1, 10])).objects).toEqual([{ type: 91, timeoutMin: 10 }]);
    expect(postCheckMinutes(600)).toBe(10);
    expect(postCheckMinutes(1)).toBe(1);
    expect(postCheckMinutes(100_000)).toBe(255);
  });

  it('rejects a unit whose length does not match type and count', () => {
    expect(() => decodeAppData(Buffer.from([1, 2, 1, 1, 0, 0, ...T]))).toThrow(
      expect.objectContaining({ code: 'GB26875_BAD_PAYLOAD' }),
    );
    expect(() => decodeAppData(Buffer.from([1]))).toThrow(
      expect.objectContaining({ code: 'GB26875_BAD_PAYLOAD' }),
    );
  });

  it('passes unknown types through as not known, without events', () => {
    const app = decodeAppData(Buffer.from([26, 1, 3, 0x41, 0x42, 0x43]));
    expect(app.known).toBe(false);
    expect(app.objects).toEqual([]);
    expect(toEvents(app, opts)).toEqual([]);
  });

  it('marks test-state events only when told to honour bit 0', () => {
    const app = decodeAppData(Buffer.from([1, 1, 1, 1, 0x02, 0x00, ...T])); // fire, bit 0 clear
    expect(toEvents(app, opts).find((e) => e.kind === 'fire')?.test).toBeUndefined();
    expect(toEvents(app, { ...opts, honourTestBit: true }).find((e) => e.kind === 'fire')?.test).toBe(true);
  });

  it('falls back to the given time when the object time label is invalid', () => {
    const app = decodeAppData(Buffer.from([21, 1, 0x03, 0, 0, 0, 0, 0, 0]));
    expect(toEvents(app, { device: 1, fallbackAt: 1234 })[0]?.at).toBe(1234);
  });
});

describe('GB 18030 text', () => {
  it('round-trips and pads to 31 bytes with NULs', () => {
    const b = encodeText('三楼走廊烟感');
    expect(b.length).toBe(31);
    expect([...b.subarray(0, 12)]).toEqual(GB_TEXT);
    expect(b.subarray(12).every((x) => x === 0)).toBe(true);
    expect(decodeText(b)).toBe('三楼走廊烟感');
  });

  it('cuts long text at a character boundary', () => {
    const b = encodeText('一二三四五六七八九十一二三四五六'); // 16 chars × 2 bytes
    expect(decodeText(b)).toBe('一二三四五六七八九十一二三四五');
    expect(b[30]).toBe(0);
  });
});

describe('StateTracker', () => {
  it('drops repeated states, keeps changes and momentary events, commits only when told', () => {
    const fire = toEvents(decodeAppData(Buffer.from([21, 1, 0x03, ...T])), opts);
    const t = new StateTracker();
    expect(t.filter(fire)).toHaveLength(fire.length);
    expect(t.filter(fire)).toHaveLength(fire.length); // not committed yet
    t.commit(fire);
    expect(t.filter(fire)).toEqual([]);
    const normal = toEvents(decodeAppData(Buffer.from([21, 1, 0x01, ...T])), opts);
    expect(t.filter(normal).map((e) => `${e.kind}:${e.active}`)).toEqual([
      'device_state:false',
      'fire:false',
    ]);
    const answer = toEvents(decodeAppData(Buffer.from([24, 1, 0x20, 3, ...T])), opts);
    t.commit(answer);
    expect(t.filter(answer)).toHaveLength(1);
  });
});
