import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gb26875Event } from '../../../../gateway/adapters/gb26875/events.js';
import { Command, encodeFrame } from '../../../../gateway/adapters/gb26875/frame.js';
import {
  type Gb26875Meta,
  Gb26875Receiver,
  type Gb26875ReceiverOptions,
} from '../../../../gateway/adapters/gb26875/receiver.js';
import { type DeviceSimOptions, Gb26875DeviceSim } from '../../../../simulators/gb26875/device.js';
import { runDevice } from '../../../../simulators/gb26875/run.js';

const DEVICE = 0x0000_1122_3344;

interface Delivery {
  events: Gb26875Event[];
  meta: Gb26875Meta;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function setup(
  ropts: Partial<Gb26875ReceiverOptions> = {},
  dopts: Partial<DeviceSimOptions> = {},
  sink?: Gb26875ReceiverOptions['sink'],
) {
  const deliveries: Delivery[] = [];
  const rx = new Gb26875Receiver({
    host: '127.0.0.1',
    port: 0,
    sink:
      sink ??
      (async (events, meta) => {
        deliveries.push({ events, meta });
      }),
    ...ropts,
  });
  await rx.start();
  cleanups.push(() => rx.stop());
  const dev = new Gb26875DeviceSim({
    port: rx.port as number,
    address: DEVICE,
    confirmTimeoutMs: 1000,
    ...dopts,
  });
  await dev.connect();
  cleanups.push(() => dev.close());
  return { rx, dev, deliveries };
}

async function waitFor(pred: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function repliesFor(dev: Gb26875DeviceSim, serial: number, command: number): number {
  return dev.received.filter((f) => f.serial === serial && f.command === command).length;
}

describe('Gb26875Receiver over TCP', () => {
  it('confirms a fire only after the sink has resolved, echoing the serial', async () => {
    let release: () => void = () => {};
    const calls: Delivery[] = [];
    const { dev } = await setup({}, {}, (events, meta) => {
      calls.push({ events, meta });
      return new Promise<void>((r) => {
        release = r;
      });
    });
    const sending = dev.fire('3F-corridor');
    await waitFor(() => calls.length === 1);
    await sleep(100);
    expect(dev.received.filter((f) => f.command === Command.confirm)).toHaveLength(0);
    release();
    const r = await sending;
    expect(r).toMatchObject({ confirmed: true, attempts: 1 });
    const confirm = dev.received.find((f) => f.command === Command.confirm);
    expect(confirm).toMatchObject({ serial: r.serial, destination: DEVICE, source: 0, dataLength: 0 });
    const fire = calls[0]?.events.find((e) => e.kind === 'fire');
    expect(fire).toMatchObject({
      active: true,
      device: DEVICE,
      text: '三楼走廊烟感',
      part: { type: 40, address: 0x30012 },
    });
    expect(calls[0]?.meta).toMatchObject({ device: DEVICE, serial: r.serial, dataType: 2 });
  });

  it('sends no confirm while the sink fails; the device retransmits until it is stored', async () => {
    let n = 0;
    const stored: Delivery[] = [];
    const { rx, dev } = await setup({}, { confirmTimeoutMs: 150, maxAttempts: 4 }, async (events, meta) => {
      n++;
      if (n <= 2) throw new Error('disk full');
      stored.push({ events, meta });
    });
    const r = await dev.fire('2F-room-201');
    expect(r).toMatchObject({ confirmed: true, attempts: 3 });
    expect(n).toBe(3);
    expect(stored).toHaveLength(1);
    expect(repliesFor(dev, r.serial, Command.confirm)).toBe(1);
    expect(rx.stats().counters.GB26875_SINK_FAILED).toBe(2);
  });

  it('never confirms when the sink keeps failing', async () => {
    const { dev } = await setup({}, { confirmTimeoutMs: 100, maxAttempts: 2 }, async () => {
      throw new Error('down');
    });
    const r = await dev.fault('1F-kitchen');
    expect(r).toMatchObject({ confirmed: false, denied: false, attempts: 2 });
    expect(dev.received).toHaveLength(0);
  });

  it('confirms a retransmitted frame again without delivering it twice', async () => {
    const { rx, dev, deliveries } = await setup();
    const serial = 700;
    const frame = dev.buildFrame(
      [
        {
          type: 21,
          status: 0x03,
          flags: [],
          time: { second: 1, minute: 2, hour: 3, day: 4, month: 5, year: 2025 },
        },
      ],
      serial,
    );
    expect(await dev.sendFrame(frame, serial)).toMatchObject({ confirmed: true });
    expect(await dev.sendFrame(frame, serial)).toMatchObject({ confirmed: true });
    expect(deliveries).toHaveLength(1);
    expect(repliesFor(dev, serial, Command.confirm)).toBe(2);
    expect(rx.stats().counters.duplicates).toBe(1);
  });

  it('a retransmission that arrives while the sink is still busy is delivered once', async () => {
    let calls = 0;
    const { dev } = await setup({}, { confirmTimeoutMs: 80, maxAttempts: 5 }, async () => {
      calls++;
      await sleep(300);
    });
    const r = await dev.fire('3F-corridor');
    expect(r.confirmed).toBe(true);
    expect(r.attempts).toBeGreaterThan(1);
    expect(calls).toBe(1);
  });

  it('denies a frame with a bad checksum (header readable) and ignores headerless garbage', async () => {
    const { rx, dev, deliveries } = await setup();
    const frame = dev.buildFrame(
      [
        {
          type: 21,
          status: 0x03,
          flags: [],
          time: { second: 0, minute: 0, hour: 0, day: 1, month: 1, year: 2025 },
        },
      ],
      42,
    );
    const bad = Buffer.from(frame);
    bad[bad.length - 3] = ((bad[bad.length - 3] ?? 0) + 1) & 0xff;
    dev.sendRaw(bad);
    await waitFor(() => repliesFor(dev, 42, Command.deny) === 1);
    dev.sendRaw(Buffer.from('not a frame at all'));
    await waitFor(() => (rx.stats().counters.GB26875_GARBAGE ?? 0) > 0);
    // The good frame still goes through afterwards on the same connection.
    expect(await dev.sendFrame(frame, 42)).toMatchObject({ confirmed: true });
    expect(deliveries).toHaveLength(1);
    const c = rx.stats().counters;
    expect(c.GB26875_BAD_CHECKSUM).toBe(1);
    expect(c.denies_sent).toBe(1);
    expect(dev.received.filter((f) => f.command === Command.deny)).toHaveLength(1);
  });

  it('denies application data that does not match its type and count; confirms unknown types', async () => {
    const { rx, dev, deliveries } = await setup();
    const raw = (serial: number, data: number[]) =>
      encodeFrame({
        serial,
        time: { second: 0, minute: 0, hour: 0, day: 1, month: 1, year: 2025 },
        source: DEVICE,
        destination: 0,
        command: Command.sendData,
        data: Buffer.from(data),
      });
    expect(await dev.sendFrame(raw(11, [2, 1, 1, 2, 3]), 11)).toMatchObject({ denied: true });
    expect(await dev.sendFrame(raw(12, [26, 1, 2, 0x41, 0x42]), 12)).toMatchObject({ confirmed: true });
    expect(deliveries).toHaveLength(0);
    expect(rx.stats().counters).toMatchObject({ GB26875_BAD_PAYLOAD: 1, GB26875_UNKNOWN_TYPE: 1 });
  });

  it('uses the configured checksum span and denies a device that sums differently', async () => {
    const { dev, deliveries } = await setup(
      { checksumSpan: 'start+header+data' },
      { checksumSpan: 'start+header+data' },
    );
    expect(await dev.heartbeat()).toMatchObject({ confirmed: true });
    expect(deliveries).toHaveLength(1);
    const rx2 = new Gb26875Receiver({ host: '127.0.0.1', sink: async () => {} });
    await rx2.start();
    cleanups.push(() => rx2.stop());
    const other = new Gb26875DeviceSim({
      port: rx2.port as number,
      address: 5,
      checksumSpan: 'start+header+data',
      maxAttempts: 1,
      confirmTimeoutMs: 200,
    });
    await other.connect();
    cleanups.push(() => other.close());
    expect(await other.heartbeat()).toMatchObject({ confirmed: false });
    expect(rx2.stats().counters).toMatchObject({ GB26875_BAD_CHECKSUM: 1, denies_sent: 1 });
    // The deny is summed the receiver's way, so this device cannot read it either.
    expect(other.errors.GB26875_BAD_CHECKSUM).toBe(1);
  });

  it('delivers state changes only: a repeated heartbeat is confirmed but not delivered', async () => {
    const { dev, deliveries } = await setup();
    expect((await dev.heartbeat()).confirmed).toBe(true);
    expect((await dev.heartbeat()).confirmed).toBe(true);
    expect(deliveries).toHaveLength(1);
    await dev.fire('3F-corridor');
    await dev.restore('3F-corridor');
    const last = deliveries.at(-1)?.events ?? [];
    expect(last.map((e) => `${e.kind}:${e.active}`)).toEqual(['fire:false']);
  });

  it('post check: the answer of the operator resolves it and is delivered', async () => {
    const { rx, dev, deliveries } = await setup(
      {},
      { answerPostCheck: true, answerDelayMs: 30, operator: 7 },
    );
    await dev.heartbeat(); // the receiver learns which connection the device is on
    const r = await rx.sendPostCheck(DEVICE, { timeoutS: 5 });
    expect(r).toMatchObject({ outcome: 'answered', device: DEVICE, confirmed: true, operator: 7 });
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
    expect(dev.postChecks).toEqual([{ serial: r.serial, timeoutMin: 1, answered: true }]);
    const control = dev.received.find((f) => f.command === Command.control);
    expect(control?.data.toString('hex')).toBe('5b0101');
    await waitFor(() => deliveries.some((d) => d.events.some((e) => e.kind === 'post_check_reply')));
  });

  it('post check: an unanswered check times out as missed; unknown devices are offline', async () => {
    const { rx, dev } = await setup({}, { answerPostCheck: false });
    await dev.heartbeat();
    const r = await rx.sendPostCheck(DEVICE, { timeoutS: 0.3 });
    expect(r).toMatchObject({ outcome: 'missed', confirmed: true });
    expect(dev.postChecks).toHaveLength(1);
    expect(await rx.sendPostCheck(999, { timeoutS: 1 })).toMatchObject({ outcome: 'offline' });
    expect(rx.stats().counters.post_check_missed).toBe(1);
  });

  it('closes idle connections and connections stuck inside a frame', async () => {
    const { rx, dev } = await setup({ idleTimeoutMs: 150, frameTimeoutMs: 150 });
    await waitFor(() => !dev.connected);
    expect(rx.stats().counters.GB26875_IDLE_TIMEOUT).toBe(1);
    const slow = new net.Socket();
    await new Promise<void>((r) => slow.connect(rx.port as number, '127.0.0.1', () => r()));
    const closed = new Promise<void>((r) => slow.on('close', () => r()));
    slow.write(Buffer.from('@@\x01\x00\x01\x00'));
    const t0 = Date.now();
    setTimeout(() => slow.write(Buffer.from('\x00')), 100); // bytes keep trickling: not idle
    await closed;
    expect(Date.now() - t0).toBeLessThan(1000);
    await waitFor(() => (rx.stats().counters.GB26875_TRUNCATED ?? 0) === 1);
  });

  it('runDevice(argv) runs a script against the receiver', async () => {
    const deliveries: Delivery[] = [];
    const rx = new Gb26875Receiver({
      host: '127.0.0.1',
      sink: async (events, meta) => void deliveries.push({ events, meta }),
    });
    await rx.start();
    cleanups.push(() => rx.stop());
    const lines: string[] = [];
    const code = await runDevice(
      [
        '--port',
        String(rx.port),
        '--address',
        '0x0a0b',
        '--script',
        'fire:3F-corridor;restore:3F-corridor;state:main_power_fault',
      ],
      { out: (l) => lines.push(l), err: (l) => lines.push(l) },
    );
    expect(code).toBe(0);
    expect(lines.filter((l) => l.includes('confirmed'))).toHaveLength(3);
    expect(deliveries[0]?.meta.device).toBe(0x0a0b);
    expect(deliveries[2]?.events.find((e) => e.kind === 'power_fault')).toMatchObject({
      active: true,
      detail: 'main',
    });
    expect(await runDevice(['--port', 'x'], { out: () => {}, err: () => {} })).toBe(2);
  });
});
