import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { type Proc, requireBuild, tempDir, until } from '../helpers/procs.js';
import { api, login, type Setup, setupSite, startCentral, startGateway } from '../helpers/site.js';

interface EventRow {
  id: string;
  deviceId: string;
  seq: number;
  data: { action: string };
}

async function device(s: Setup): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${s.busPort}`, {
    clientId: `dev-${Math.random()}`,
    reconnectPeriod: 200,
    clean: true,
  });
}

async function storedEvents(s: Setup, token: string): Promise<EventRow[]> {
  const r = await api<{ events: EventRow[] }>(s, token, '/api/events?limit=1000&kind=emergency_call');
  return r.body.events;
}

/** Per device, the stored sequence numbers must be exactly 0..n-1: nothing lost, nothing twice. */
function checkSequences(events: EventRow[], expectedPerDevice: Record<string, number>): void {
  const byDevice = new Map<string, number[]>();
  for (const e of events) byDevice.set(e.deviceId, [...(byDevice.get(e.deviceId) ?? []), e.seq]);
  for (const [dev, n] of Object.entries(expectedPerDevice)) {
    const seqs = (byDevice.get(dev) ?? []).sort((a, b) => a - b);
    expect(seqs, dev).toEqual(Array.from({ length: n }, (_, i) => i));
  }
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
}

describe('crash recovery across real processes', () => {
  const procs: Proc[] = [];
  const dirs: Array<{ cleanup: () => void }> = [];
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.kill('SIGKILL');
    for (const d of dirs.splice(0)) d.cleanup();
  });

  it('a gateway killed with SIGKILL while the central is unreachable delivers every acknowledged event exactly once', async () => {
    requireBuild();
    const dir = tempDir('cw-gwkill-');
    dirs.push(dir);
    const s = await setupSite(dir.path, { devices: ['btn-1', 'btn-2', 'btn-3'] });
    let gw = await startGateway(s); // central is not running: the uplink keeps retrying
    procs.push(gw);
    const dev = await device(s);
    const devices = ['btn-1', 'btn-2', 'btn-3'];
    const acked: Record<string, number> = { 'btn-1': 0, 'btn-2': 0, 'btn-3': 0 };
    const total = 150;
    let killed = false;
    for (let i = 0; i < total; i++) {
      const d = devices[i % 3]!;
      await dev.publishAsync(`zigbee2mqtt/${d}`, JSON.stringify({ action: i % 2 ? 'double' : 'single' }), {
        qos: 1,
      });
      acked[d]!++;
      if (i === 80 && !killed) {
        killed = true;
        await gw.kill('SIGKILL');
        gw = await startGateway(s);
        procs.push(gw);
      }
    }
    await dev.endAsync();
    expect(killed).toBe(true);

    const central = await startCentral(s);
    procs.push(central);
    const token = await login(s);
    const events = await until(async () => {
      const ev = await storedEvents(s, token);
      return ev.length >= total ? ev : undefined;
    }, 30_000);
    // wait a little longer: anything sent twice would show up now
    await new Promise((r) => setTimeout(r, 1500));
    const final = await storedEvents(s, token);
    console.log(
      `gateway SIGKILL: acknowledged ${total}, stored ${final.length}, duplicates ${final.length - new Set(final.map((e) => e.id)).size}`,
    );
    expect(final.length).toBe(events.length);
    expect(final.length).toBe(total);
    checkSequences(final, acked);
  }, 90_000);

  it('a central killed with SIGKILL mid-stream loses no event and doubles no alert', async () => {
    requireBuild();
    const dir = tempDir('cw-cekill-');
    dirs.push(dir);
    const devices = ['btn-1', 'btn-2', 'btn-3', 'btn-4'];
    const s = await setupSite(dir.path, { devices });
    let central = await startCentral(s);
    procs.push(central);
    const gw = await startGateway(s);
    procs.push(gw);
    await gw.waitFor(/connected to central/);
    const dev = await device(s);
    const rounds = 20; // per device: press, cancel, press, cancel, ...
    const sent: Record<string, number> = Object.fromEntries(devices.map((d) => [d, 0]));
    let killed = false;
    for (let r = 0; r < rounds; r++) {
      for (const d of devices) {
        await dev.publishAsync(`zigbee2mqtt/${d}`, JSON.stringify({ action: 'single' }), { qos: 1 });
        await dev.publishAsync(`zigbee2mqtt/${d}`, JSON.stringify({ action: 'double' }), { qos: 1 });
        sent[d]! += 2;
      }
      if (r === 8) {
        killed = true;
        await central.kill('SIGKILL');
        central = await startCentral(s);
        procs.push(central);
      }
      await new Promise((res) => setTimeout(res, 20));
    }
    await dev.endAsync();
    expect(killed).toBe(true);
    const token = await login(s);
    const total = rounds * devices.length * 2;
    await until(async () => (await storedEvents(s, token)).length >= total, 30_000);
    const events = await storedEvents(s, token);
    checkSequences(events, sent);

    type A = { id: string; source: string; type: string; state: string };
    const alerts = await until(async () => {
      const r = await api<{ alerts: A[] }>(s, token, '/api/alerts?limit=1000');
      const calls = r.body.alerts.filter((a) => a.type === 'emergency_call');
      return calls.length >= rounds * devices.length && calls.every((a) => a.state === 'resolved')
        ? calls
        : undefined;
    }, 30_000);
    console.log(
      `central SIGKILL: events sent ${total}, stored ${events.length}; alerts ${alerts.length} (expected ${rounds * devices.length})`,
    );
    expect(alerts.length).toBe(rounds * devices.length);
    for (const d of devices) expect(alerts.filter((a) => a.source === d).length).toBe(rounds);
    for (const a of alerts.slice(0, 40)) {
      const detail = await api<{ audit: Array<{ action: string }> }>(s, token, `/api/alerts/${a.id}`);
      expect(detail.body.audit.map((x) => x.action)).toEqual(['opened', 'resolved']);
    }
  }, 120_000);
});
