/**
 * Part (b) of `npm run bench:alerts`: WebSocket fan-out latency to N
 * connected supervisors of a real central process (`node dist/cli/main.js
 * central`, with a real gateway process in front of it). Half the clients
 * use an administrator's session, half a civil-affairs supervisor's whose
 * region holds the site, so the hub's scope check runs as in production.
 * Each alert is opened (button press on the gateway's local bus),
 * acknowledged (REST POST as the administrator) and resolved (bedside
 * cancel); for each broadcast the time from the trigger to the arrival at
 * every client is recorded. Baseline, same run, same client count, same
 * message bytes: a bare `ws` server process (bench/ws-broadcast-server.ts)
 * with its own N clients, which relays each message right after the central
 * has delivered it, so both see the same load of a shared machine.
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

/** The bench process holds `sockets` client sockets at once. */
function checkFdLimit(sockets: number): void {
  const limit = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim());
  if (Number.isFinite(limit) && limit < sockets + 256)
    throw new Error(
      `open-file limit ${limit} is too low for ${sockets} WebSocket clients: raise it (ulimit -n ${sockets + 256}) or lower BENCH_WS_CLIENTS`,
    );
}

/** The bare `ws` server process and its clients, started before and measured in turn with the central. */
class Baseline {
  readonly rows = new Collector('bare ws server (baseline): the same messages, relayed in turn');
  connectMs = 0;
  private pool: WsPool | undefined;
  private ctl: WebSocket | undefined;
  private readonly server = spawn(process.execPath, [join(ROOT, 'dist', 'bench', 'ws-broadcast-server.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });

  async start(clients: number): Promise<void> {
    const port = await new Promise<number>((res, rej) => {
      const t = setTimeout(() => rej(new Error('baseline ws server did not start in 10 s')), 10_000);
      let out = '';
      this.server.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = out.match(/listening (\d+)/);
        if (m) {
          clearTimeout(t);
          res(Number(m[1]));
        }
      });
      this.server.once('exit', (code) => rej(new Error(`baseline ws server exited (${code})`)));
    });
    const t0 = performance.now();
    this.pool = await WsPool.connect({ n: clients, url: `ws://127.0.0.1:${port}/` });
    this.connectMs = performance.now() - t0;
    const c = new WebSocket(`ws://127.0.0.1:${port}/ctl`, { perMessageDeflate: false });
    this.ctl = c;
    await new Promise<void>((res, rej) => {
      c.once('open', () => res());
      c.once('error', rej);
    });
  }

  /** Has the bare server broadcast `raw` (a message the central just sent) and times it the same way. */
  async relay(raw: string, keep: boolean): Promise<void> {
    const markers = [raw.match(/"change":"[a-z]+"/)![0], raw.match(/"id":"[^"]+"/)![0]];
    const wait = this.pool!.arm(markers);
    const t = performance.now();
    this.ctl!.send(raw);
    const a = await wait;
    if (keep) this.rows.add(t, a);
    await sleep(PAUSE_MS);
  }

  stop(): void {
    this.ctl?.close();
    this.pool?.close();
    this.server.kill('SIGTERM');
  }
}

interface Run {
  rows: LatencyRow[];
  baseline: LatencyRow;
  messageBytes: number;
  connectMs: { central: number; baseline: number };
}

async function run(clients: number, alerts: number): Promise<Run> {
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
  const baseline = new Baseline();
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
    await baseline.start(clients);
    dev = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.busPort}`, { clientId: 'bench-button' });
    const rows = {
      opened: new Collector('central: opened (button press → gateway → central)'),
      acknowledged: new Collector('central: acknowledged (REST POST /api/alerts/:id/ack)'),
      resolved: new Collector('central: resolved (bedside cancel → gateway → central)'),
    };
    let bytes = 0;
    const p = pool;
    const d = dev;
    /** One central broadcast: arm, trigger, collect; then the bare server relays the same bytes. */
    const step = async (
      rows: Collector,
      markers: string[],
      trigger: () => Promise<void>,
      keep: boolean,
    ): Promise<string> => {
      const wait = p.arm(markers);
      const t = performance.now();
      await trigger();
      const a = await wait;
      if (!a.raw) throw new Error(`no ${markers.join(' ')} at client 0 (${a.missing} clients missing it)`);
      if (keep) {
        rows.add(t, a);
        bytes += Buffer.byteLength(a.raw);
      }
      await sleep(PAUSE_MS);
      await baseline.relay(a.raw, keep);
      return a.raw;
    };
    const press = (device: string, action: string) => async () => {
      await d.publishAsync(`zigbee2mqtt/${device}`, JSON.stringify({ action }), { qos: 1 });
    };
    for (let k = 0; k < WARMUP + alerts; k++) {
      const device = devices[k % devices.length]!;
      const keep = k >= WARMUP;
      const opened = await step(
        rows.opened,
        ['"change":"opened"', `"source":"${device}"`],
        press(device, 'single'),
        keep,
      );
      const id = (JSON.parse(opened) as { alert: { id: string } }).alert.id;
      await step(
        rows.acknowledged,
        ['"change":"acknowledged"', `"id":"${id}"`],
        async () => {
          const r = await fetch(`${s.base}/api/alerts/${id}/ack`, {
            method: 'POST',
            headers: { authorization: `Bearer ${tokens[0]}`, 'content-type': 'application/json' },
            body: JSON.stringify({ note: 'bench' }),
          });
          if (!r.ok) throw new Error(`ack failed: ${r.status} ${await r.text()}`);
        },
        keep,
      );
      await step(rows.resolved, ['"change":"resolved"', `"id":"${id}"`], press(device, 'double'), keep);
    }
    return {
      rows: [rows.opened.row(), rows.acknowledged.row(), rows.resolved.row()],
      baseline: baseline.rows.row(),
      messageBytes: Math.round(bytes / (3 * alerts)),
      connectMs: { central: connectMs, baseline: baseline.connectMs },
    };
  } finally {
    await dev?.endAsync();
    pool?.close();
    baseline.stop();
    await gateway.kill();
    await central.kill();
    dir.cleanup();
  }
}

export async function benchFanout(opts: { clients: number; alerts: number }): Promise<FanoutFigures> {
  requireBuild();
  checkFdLimit(2 * opts.clients);
  const r = await run(opts.clients, opts.alerts);
  return {
    clients: opts.clients,
    users: 2,
    messageBytes: r.messageBytes,
    central: r.rows,
    baseline: r.baseline,
    connectMs: r.connectMs,
  };
}
