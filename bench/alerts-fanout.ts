/**
 * Part (b) of `npm run bench:alerts`: WebSocket fan-out latency to N
 * connected supervisors of a real central process (`node dist/cli/main.js
 * central`, with a real gateway process in front of it). Half the clients
 * use an administrator's session, half a civil-affairs supervisor's whose
 * region holds the site, so the hub's scope check runs as in production.
 * Each alert is opened (button press on the gateway's local bus),
 * acknowledged (REST POST as the administrator) and resolved (bedside
 * cancel); for each broadcast the time from the trigger to the arrival at
 * every client is recorded. Baseline, same run, same client count and the
 * same message bytes: a bare `ws` server process (bench/ws-broadcast-server.ts)
 * broadcasting on a control message.
 */
import { execSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { addRegion, addUser } from '../cli/provision.js';
import { ROOT, requireBuild, tempDir } from '../lib/testkit/procs.js';
import { login, setupSite, startCentral, startGateway } from '../lib/testkit/site.js';
import { openCentralStore } from '../storage/open-store.js';
import { summary } from './stats.js';
import { type Arrivals, WsPool } from './ws-pool.js';

type Summary = ReturnType<typeof summary>;

export interface LatencyRow {
  label: string;
  broadcasts: number;
  deliveries: number;
  missing: number;
  /** Every delivery: arrival − trigger. */
  all: Summary;
  /** Per broadcast: the first and the last client's arrival, and last − first. */
  first: Summary;
  last: Summary;
  spread: Summary;
}

export interface FanoutFigures {
  clients: number;
  users: number;
  messageBytes: number;
  central: LatencyRow[];
  baseline: LatencyRow;
  connectMs: { central: number; baseline: number };
}

const WARMUP = 3;
const PAUSE_MS = 20;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

class Collector {
  private readonly all: number[] = [];
  private readonly first: number[] = [];
  private readonly last: number[] = [];
  private readonly spread: number[] = [];
  private broadcasts = 0;
  private missing = 0;

  constructor(readonly label: string) {}

  add(t0: number, a: Arrivals): void {
    this.broadcasts++;
    this.missing += a.missing;
    let lo = Number.POSITIVE_INFINITY;
    let hi = 0;
    for (const t of a.at) {
      if (t === 0) continue;
      const d = t - t0;
      this.all.push(d);
      lo = Math.min(lo, d);
      hi = Math.max(hi, d);
    }
    if (hi > 0) {
      this.first.push(lo);
      this.last.push(hi);
      this.spread.push(hi - lo);
    }
  }

  row(): LatencyRow {
    return {
      label: this.label,
      broadcasts: this.broadcasts,
      deliveries: this.all.length,
      missing: this.missing,
      all: summary(this.all),
      first: summary(this.first),
      last: summary(this.last),
      spread: summary(this.spread),
    };
  }
}

function checkFdLimit(clients: number): void {
  const limit = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim());
  if (Number.isFinite(limit) && limit < clients + 256)
    throw new Error(
      `open-file limit ${limit} is too low for ${clients} WebSocket clients: raise it (ulimit -n ${clients * 2 + 256}) or lower BENCH_WS_CLIENTS`,
    );
}

interface CentralRun {
  rows: LatencyRow[];
  messages: string[];
  connectMs: number;
}

async function runCentral(clients: number, alerts: number): Promise<CentralRun> {
  const dir = tempDir('cw-bench-fanout-');
  const devices = ['btn-1', 'btn-2', 'btn-3', 'btn-4'];
  const s = await setupSite(dir.path, { devices, heartbeatS: 5 });
  // a district holding the site, and a civil-affairs supervisor of that district
  await addRegion({ dataDir: s.centralDir, id: 'bench-district', name: 'Bench district', level: 'district' });
  const store = await openCentralStore({ dataDir: s.centralDir });
  await store.registry.upsertSite({ id: 'site-a', name: 'site-a', region: 'bench-district' });
  await store.close();
  const sup = await addUser({
    dataDir: s.centralDir,
    username: 'supervisor',
    role: 'civil_affairs',
    region: 'bench-district',
  });
  const central = await startCentral(s);
  const gateway = await startGateway(s);
  let pool: WsPool | undefined;
  let dev: mqtt.MqttClient | undefined;
  try {
    await gateway.waitFor(/connected to central/);
    const tokens = [await login(s), await login(s, 'supervisor', sup.password)];
    const t0 = performance.now();
    pool = await WsPool.connect({
      n: clients,
      url: `ws://127.0.0.1:${s.httpPort}/api/ws`,
      headers: (i) => ({ authorization: `Bearer ${tokens[i % tokens.length]}` }),
    });
    const connectMs = performance.now() - t0;
    dev = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.busPort}`, { clientId: 'bench-button' });
    const rows = {
      opened: new Collector('central: opened (button press → gateway → central)'),
      acknowledged: new Collector('central: acknowledged (REST POST /api/alerts/:id/ack)'),
      resolved: new Collector('central: resolved (bedside cancel → gateway → central)'),
    };
    const messages: string[] = [];
    const p = pool;
    const d = dev;
    for (let k = 0; k < WARMUP + alerts; k++) {
      const device = devices[k % devices.length]!;
      const keep = k >= WARMUP;
      let wait = p.arm(['"change":"opened"', `"source":"${device}"`]);
      let t = performance.now();
      await d.publishAsync(`zigbee2mqtt/${device}`, JSON.stringify({ action: 'single' }), { qos: 1 });
      let a = await wait;
      if (!a.raw) throw new Error(`alert for ${device} never reached client 0`);
      if (keep) rows.opened.add(t, a);
      const opened = a.raw;
      const id = (JSON.parse(opened) as { alert: { id: string } }).alert.id;
      await sleep(PAUSE_MS);

      wait = p.arm(['"change":"acknowledged"', `"id":"${id}"`]);
      t = performance.now();
      const r = await fetch(`${s.base}/api/alerts/${id}/ack`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[0]}`, 'content-type': 'application/json' },
        body: JSON.stringify({ note: 'bench' }),
      });
      if (!r.ok) throw new Error(`ack failed: ${r.status} ${await r.text()}`);
      a = await wait;
      if (keep) rows.acknowledged.add(t, a);
      const acked = a.raw;
      await sleep(PAUSE_MS);

      wait = p.arm(['"change":"resolved"', `"id":"${id}"`]);
      t = performance.now();
      await d.publishAsync(`zigbee2mqtt/${device}`, JSON.stringify({ action: 'double' }), { qos: 1 });
      a = await wait;
      if (keep) rows.resolved.add(t, a);
      if (k === WARMUP && acked && a.raw) messages.push(opened, acked, a.raw);
      await sleep(PAUSE_MS);
    }
    return { rows: [rows.opened.row(), rows.acknowledged.row(), rows.resolved.row()], messages, connectMs };
  } finally {
    await dev?.endAsync();
    pool?.close();
    await gateway.kill();
    await central.kill();
    dir.cleanup();
  }
}

async function runBaseline(
  clients: number,
  messages: string[],
  broadcasts: number,
): Promise<{ row: LatencyRow; connectMs: number }> {
  const server = spawn(process.execPath, [join(ROOT, 'dist', 'bench', 'ws-broadcast-server.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let pool: WsPool | undefined;
  let ctl: WebSocket | undefined;
  try {
    const port = await new Promise<number>((res, rej) => {
      const t = setTimeout(() => rej(new Error('baseline ws server did not start in 10 s')), 10_000);
      let out = '';
      server.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = out.match(/listening (\d+)/);
        if (m) {
          clearTimeout(t);
          res(Number(m[1]));
        }
      });
      server.once('exit', (code) => rej(new Error(`baseline ws server exited (${code})`)));
    });
    const t0 = performance.now();
    pool = await WsPool.connect({ n: clients, url: `ws://127.0.0.1:${port}/` });
    const connectMs = performance.now() - t0;
    const c = new WebSocket(`ws://127.0.0.1:${port}/ctl`, { perMessageDeflate: false });
    ctl = c;
    await new Promise<void>((res, rej) => {
      c.once('open', () => res());
      c.once('error', rej);
    });
    const rows = new Collector(`bare ws server (baseline), same ${messages.length} messages in turn`);
    for (let k = 0; k < WARMUP + broadcasts; k++) {
      const msg = messages[k % messages.length]!;
      const change = msg.match(/"change":"[a-z]+"/)![0];
      const wait = pool.arm([change]);
      const t = performance.now();
      c.send(msg);
      const a = await wait;
      if (k >= WARMUP) rows.add(t, a);
      await sleep(PAUSE_MS);
    }
    return { row: rows.row(), connectMs };
  } finally {
    ctl?.close();
    pool?.close();
    server.kill('SIGTERM');
  }
}

export async function benchFanout(opts: { clients: number; alerts: number }): Promise<FanoutFigures> {
  requireBuild();
  checkFdLimit(opts.clients);
  const central = await runCentral(opts.clients, opts.alerts);
  if (central.messages.length === 0) throw new Error('no alert messages captured from the central');
  const base = await runBaseline(opts.clients, central.messages, central.rows.length * opts.alerts);
  return {
    clients: opts.clients,
    users: 2,
    messageBytes: Math.round(
      central.messages.reduce((n, m) => n + Buffer.byteLength(m), 0) / central.messages.length,
    ),
    central: central.rows,
    baseline: base.row,
    connectMs: { central: central.connectMs, baseline: base.connectMs },
  };
}
