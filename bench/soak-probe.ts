/**
 * The soak's observers: a supervisor WebSocket that times probe presses
 * (button on site 1's local bus → `opened` alert on the socket), and a
 * periodic reader of the REST API (alerts, sites, events) as a dashboard
 * would poll it.
 */
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { PROBE_BUTTONS } from './soak-sites.js';

const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

interface Waiter {
  change: string;
  source: string;
  resolve: () => void;
}

/** Timed probe presses; `take()` hands over the samples since the last call. */
export class Prober {
  private ws: WebSocket | undefined;
  private bus: MqttClient | undefined;
  private waiters: Waiter[] = [];
  private samples: number[] = [];
  private running = false;
  private loop: Promise<void> | undefined;
  wsMessages = 0;
  sent = 0;
  timeouts = 0;

  constructor(
    private readonly opts: { base: string; token: string; busPort: number; siteId: string; everyMs: number },
  ) {}

  async start(): Promise<void> {
    const ws = new WebSocket(`${this.opts.base.replace('http', 'ws')}/api/ws`, {
      headers: { authorization: `Bearer ${this.opts.token}` },
    });
    ws.on('message', (d) => {
      this.wsMessages++;
      const m = JSON.parse(d.toString()) as { change?: string; alert?: { source: string; siteId: string } };
      if (!m.alert || m.alert.siteId !== this.opts.siteId) return;
      for (const w of [...this.waiters])
        if (w.change === m.change && w.source === m.alert.source) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve();
        }
    });
    await new Promise<void>((res, rej) => {
      ws.once('open', () => res());
      ws.once('error', rej);
    });
    this.ws = ws;
    this.bus = await mqtt.connectAsync(`mqtt://127.0.0.1:${this.opts.busPort}`, { clientId: 'soak-probe' });
  }

  private wait(change: string, source: string, ms: number): Promise<boolean> {
    return new Promise((res) => {
      const w: Waiter = {
        change,
        source,
        resolve: () => {
          clearTimeout(t);
          res(true);
        },
      };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        res(false);
      }, ms);
      this.waiters.push(w);
    });
  }

  private async act(device: string, action: string): Promise<void> {
    await this.bus!.publishAsync(`zigbee2mqtt/${device}`, JSON.stringify({ action }), { qos: 1 });
    this.sent++;
  }

  /** One press → opened (timed), then a cancel → resolved. */
  async probe(i: number): Promise<number | null> {
    const device = PROBE_BUTTONS[i % PROBE_BUTTONS.length]!;
    const opened = this.wait('opened', device, 10_000);
    const t0 = performance.now();
    await this.act(device, 'single');
    const ok = await opened;
    const dt = performance.now() - t0;
    const resolved = this.wait('resolved', device, 10_000);
    await this.act(device, 'double');
    if (!(await resolved) || !ok) {
      this.timeouts++;
      return null;
    }
    return dt;
  }

  /** Probes every `everyMs` in the background until stop(). */
  run(): void {
    this.running = true;
    this.loop = (async () => {
      for (let i = 0; this.running; i++) {
        const dt = await this.probe(i);
        if (dt !== null) this.samples.push(dt);
        await sleep(this.opts.everyMs);
      }
    })();
  }

  take(): number[] {
    const s = this.samples;
    this.samples = [];
    return s;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.bus?.endAsync();
    this.ws?.close();
  }
}

const READS = ['/api/alerts?limit=100', '/api/sites', '/api/events?limit=100'];

/** Polls the REST API like a dashboard; `take()` hands over response times and failures. */
export class RestReader {
  private timer: NodeJS.Timeout | undefined;
  private times: number[] = [];
  private busy = false;
  errors = 0;
  reads = 0;

  constructor(private readonly opts: { base: string; token: string; everyMs: number }) {}

  start(): void {
    this.timer = setInterval(() => void this.readAll(), this.opts.everyMs);
  }

  private async readAll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (const path of READS) {
        const t0 = performance.now();
        try {
          const r = await fetch(`${this.opts.base}${path}`, {
            headers: { authorization: `Bearer ${this.opts.token}` },
            signal: AbortSignal.timeout(10_000),
          });
          await r.arrayBuffer();
          if (r.ok) this.times.push(performance.now() - t0);
          else this.errors++;
        } catch {
          this.errors++;
        }
        this.reads++;
      }
    } finally {
      this.busy = false;
    }
  }

  take(): number[] {
    const t = this.times;
    this.times = [];
    return t;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
