import { afterEach, describe, expect, it } from 'vitest';
import type { Gb26875Event } from '../../gateway/adapters/gb26875/events.js';
import { type Gb26875Meta, Gb26875Receiver } from '../../gateway/adapters/gb26875/receiver.js';
import { CarewatchError } from '../../lib/errors.js';
import { cli, freePort, requireBuild, tempDir } from '../helpers/procs.js';
import { login, setupSite, startCentral, startGateway } from '../helpers/site.js';
import { supervisorSocket } from '../helpers/ws.js';

/**
 * `carewatch simulate gb26875` as a separate process (node dist/cli/main.js)
 * against a GB/T 26875.3 receiver listening on loopback in the test process,
 * and against a gateway process's receiver, through to the central.
 */

interface Delivery {
  events: Gb26875Event[];
  meta: Gb26875Meta;
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function receiver(sink?: (events: Gb26875Event[], meta: Gb26875Meta) => Promise<void>) {
  const deliveries: Delivery[] = [];
  const rx = new Gb26875Receiver({
    host: '127.0.0.1',
    port: 0,
    sink: sink ?? (async (events, meta) => void deliveries.push({ events, meta })),
  });
  await rx.start();
  cleanups.push(() => rx.stop());
  return { rx, deliveries, port: rx.port as number };
}

function simulate(args: string[]) {
  requireBuild();
  const p = cli(['simulate', 'gb26875', ...args], { CAREWATCH_LOG_LEVEL: 'warn' });
  cleanups.push(() => p.kill('SIGKILL'));
  const exited = new Promise<number | null>((r) => {
    if (p.child.exitCode !== null) r(p.child.exitCode);
    else p.child.on('exit', (c) => r(c));
  });
  return { p, exited };
}

describe('carewatch simulate gb26875', () => {
  it('sends the scripted frames, each confirmed by the receiver, and exits 0', async () => {
    const { port, deliveries, rx } = await receiver();
    const { p, exited } = simulate([
      '--port',
      String(port),
      '--address',
      '0x07',
      '--script',
      'fire:3F-corridor;restore:3F-corridor;fault:1F-kitchen;heartbeat',
    ]);
    expect(await exited).toBe(0);
    const out = p.output();
    expect(out).toMatch(/fire:3F-corridor: confirmed \(serial 1, 1 attempt\(s\)\)/);
    expect(out).toMatch(/restore:3F-corridor: confirmed \(serial 2/);
    expect(out).toMatch(/fault:1F-kitchen: confirmed \(serial 3/);
    expect(out).toMatch(/heartbeat: confirmed \(serial 4/);

    // what arrived: the fire, its restore and the fault of the named parts, from device 7
    expect(deliveries.every((d) => d.meta.device === 7)).toBe(true);
    const fire = deliveries[0]?.events.find((e) => e.kind === 'fire');
    expect(fire).toMatchObject({ active: true });
    expect(fire?.text).toBe('三楼走廊烟感');
    expect(deliveries[1]?.events.find((e) => e.kind === 'fire')).toMatchObject({ active: false });
    expect(deliveries.some((d) => d.events.some((e) => e.kind === 'fault' && e.active))).toBe(true);
    const c = rx.stats().counters;
    expect(c.confirms_sent).toBe(4);
    expect(c.frames).toBe(4);
    expect(c.duplicates ?? 0).toBe(0);
  });

  it('answers a post check (type 91) sent while it holds the connection', async () => {
    const { port, rx } = await receiver();
    const { p, exited } = simulate([
      '--port',
      String(port),
      '--address',
      '9',
      '--script',
      'heartbeat',
      '--hold-ms',
      '5000',
    ]);
    await p.waitFor(/heartbeat: confirmed/);
    const r = await rx.sendPostCheck(9, { timeoutS: 10 });
    expect(r).toMatchObject({ outcome: 'answered', device: 9, confirmed: true });
    expect(await exited).toBe(0);
    expect(p.output()).toMatch(/post check serial \d+ \(1 min\): answered/);
  });

  it('leaves a post check unanswered with --answer-post-check no', async () => {
    const { port, rx } = await receiver();
    const { p, exited } = simulate([
      '--port',
      String(port),
      '--address',
      '9',
      '--script',
      'heartbeat',
      '--answer-post-check',
      'no',
      '--hold-ms',
      '4000',
    ]);
    await p.waitFor(/heartbeat: confirmed/);
    const r = await rx.sendPostCheck(9, { timeoutS: 1 });
    expect(r).toMatchObject({ outcome: 'missed', confirmed: true });
    expect(await exited).toBe(0);
    expect(p.output()).toMatch(/post check serial \d+ \(1 min\): ignored/);
  });

  it('exits 1 when frames are not confirmed (the receiver cannot store them)', async () => {
    const { port, rx } = await receiver(async () => {
      throw new CarewatchError('TEST_SINK_DOWN', 'store unavailable');
    });
    const { p, exited } = simulate([
      '--port',
      String(port),
      '--script',
      'fire:2F-room-201',
      '--confirm-timeout-ms',
      '300',
      '--attempts',
      '2',
    ]);
    expect(await exited).toBe(1);
    expect(p.output()).toMatch(/fire:2F-room-201: no confirm \(serial 1, 2 attempt\(s\)\)/);
    expect(rx.stats().counters.GB26875_SINK_FAILED).toBe(2);
    expect(rx.stats().counters.confirms_sent ?? 0).toBe(0);
  });

  it('exits 2 with the usage on bad arguments and when nothing listens', async () => {
    const bad = simulate(['--port', 'x']);
    expect(await bad.exited).toBe(2);
    expect(bad.p.output()).toContain('--port must be a non-negative integer');
    expect(bad.p.output()).toContain('usage: gb26875-device');

    const port = await freePort();
    const none = simulate(['--port', String(port), '--script', 'heartbeat']);
    expect(await none.exited).toBe(2);
    expect(none.p.output()).toContain(`cannot connect to 127.0.0.1:${port}`);
  });
});

describe('carewatch simulate gb26875 against a gateway', () => {
  it("a scripted fire opens a critical alert on a supervisor's WebSocket and its restore resolves it", async () => {
    requireBuild();
    const dir = tempDir('cw-cli-gb-');
    cleanups.push(async () => dir.cleanup());
    const s = await setupSite(dir.path, {
      extra: { gb26875: { host: '127.0.0.1', port: 0, devices: [{ address: 7, label: '消防主机' }] } },
    });
    const central = await startCentral(s);
    cleanups.push(() => central.kill());
    const gateway = await startGateway(s);
    cleanups.push(() => gateway.kill());
    await gateway.waitFor(/connected to central/);
    const port = Number(gateway.output().match(/gb26875=(\d+)/)?.[1]);
    const sup = await supervisorSocket(s.base, await login(s));
    cleanups.push(async () => sup.close());
    await sup.next((m) => m.type === 'snapshot');

    // one device process for both steps: a second process would start again at serial 1,
    // and within the same second that is the retransmission of the fire frame
    const dev = simulate([
      '--port',
      String(port),
      '--address',
      '7',
      '--script',
      'fire:3F-corridor;wait:300;restore:3F-corridor',
    ]);
    const opened = await sup.next((m) => m.change === 'opened' && m.alert?.type === 'fire_alarm');
    expect(opened.alert).toMatchObject({ severity: 'critical', state: 'open', siteId: 'site-a' });
    expect(opened.alert?.source.startsWith('fire-7:')).toBe(true);
    await sup.next((m) => m.change === 'resolved' && m.alert?.id === opened.alert?.id);
    expect(await dev.exited).toBe(0);
    expect(dev.p.output()).toMatch(/fire:3F-corridor: confirmed[\s\S]*restore:3F-corridor: confirmed/);
  }, 60_000);
});
