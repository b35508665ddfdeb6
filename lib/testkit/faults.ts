/**
 * Shared pieces of the fault-injection scenarios (tests/faults) and the
 * backlog benchmark: a site whose gateway reaches the central through a
 * TcpProxy, a call-button device that counts only PUBACKed presses as sent,
 * a seeded random, and the exactly-once check over the central's events.
 * Nothing here asserts: callers decide what a tally must look like.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { type NewEvent, Outbox } from '../../gateway/outbox.js';
import { openDatabase } from '../../storage/sqlite/open.js';
import { freePort, type Proc, tempDir, until } from './procs.js';
import { api, login, type Setup, setupSite, startCentral, startGateway } from './site.js';
import { TcpProxy } from './tcp-proxy.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** mulberry32: a small seeded PRNG, so a failing run can be replayed from its printed seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FaultSite {
  s: Setup;
  /** the gateway's data dir (its outbox is `gateway.db` there) */
  gatewayDir: string;
  siteId: string;
  proxy: TcpProxy;
  central: Proc | undefined;
  gateway: Proc | undefined;
  token: () => Promise<string>;
  startCentral: () => Promise<Proc>;
  startGateway: () => Promise<Proc>;
  /** Stops the central (SIGKILL or a clean SIGTERM) and starts it again. */
  restartCentral: (signal: NodeJS.Signals) => Promise<void>;
  restartGateway: (signal: NodeJS.Signals) => Promise<void>;
  stop: () => Promise<void>;
}

/** A provisioned site whose gateway's `central.url` points at a proxy in front of the central. */
export async function faultSite(
  prefix: string,
  opts: { devices: string[]; startCentral?: boolean; heartbeatS?: number; inflight?: number },
): Promise<FaultSite> {
  const dir = tempDir(`cw-${prefix}-`);
  const proxyPort = await freePort();
  const s = await setupSite(dir.path, {
    devices: opts.devices,
    heartbeatS: opts.heartbeatS ?? 2,
    centralUrl: () => `mqtt://127.0.0.1:${proxyPort}`,
    ...(opts.inflight ? { inflight: opts.inflight } : {}),
  });
  const proxy = await TcpProxy.start({ port: s.mqttPort }, proxyPort);
  let tokenCache: string | undefined;
  const site: FaultSite = {
    s,
    gatewayDir: join(dir.path, 'gateway'),
    siteId: 'site-a', // setupSite's default
    proxy,
    central: undefined,
    gateway: undefined,
    async token() {
      tokenCache ??= await login(s);
      return tokenCache;
    },
    async startCentral() {
      site.central = await startCentral(s);
      return site.central;
    },
    async startGateway() {
      site.gateway = await startGateway(s);
      return site.gateway;
    },
    async restartCentral(signal) {
      await site.central?.kill(signal);
      tokenCache = undefined; // sessions may not survive a restart
      await site.startCentral();
    },
    async restartGateway(signal) {
      await site.gateway?.kill(signal);
      await site.startGateway();
    },
    async stop() {
      await site.gateway?.kill('SIGKILL');
      await site.central?.kill('SIGKILL');
      await proxy.close();
      dir.cleanup();
    },
  };
  if (opts.startCentral !== false) await site.startCentral();
  await site.startGateway();
  return site;
}

/**
 * A zigbee2mqtt-style call button on the gateway's local bus. A press counts
 * as sent only when its PUBACK arrives; an attempt without PUBACK (timeout,
 * closed connection) is retried on a fresh connection and counted in
 * `unacked` (the gateway may or may not have stored it: buttons carry no id).
 */
export class Button {
  readonly sent: Record<string, number> = {};
  readonly unacked: Record<string, number> = {};
  private client: MqttClient | undefined;

  constructor(private readonly busPort: number) {}

  get totalSent(): number {
    return Object.values(this.sent).reduce((a, b) => a + b, 0);
  }

  private async connected(): Promise<MqttClient> {
    if (this.client?.connected) return this.client;
    this.client?.end(true);
    this.client = await mqtt.connectAsync(`mqtt://127.0.0.1:${this.busPort}`, {
      clientId: `button-${process.pid}-${Math.random().toString(36).slice(2)}`,
      reconnectPeriod: 0,
      connectTimeout: 2000,
      clean: true,
    });
    this.client.on('error', () => {});
    return this.client;
  }

  /** Publishes one action at QoS 1 until it is acknowledged (or `giveUpMs` passes). */
  async press(deviceId: string, action: 'single' | 'double', giveUpMs = 30_000): Promise<void> {
    const end = Date.now() + giveUpMs;
    this.sent[deviceId] ??= 0;
    this.unacked[deviceId] ??= 0;
    for (;;) {
      let published = false;
      try {
        const c = await this.connected();
        published = true;
        await new Promise<void>((res, rej) => {
          const t = setTimeout(() => rej(new Error('no PUBACK')), 5000);
          const onClose = () => rej(new Error('closed'));
          c.once('close', onClose);
          c.publish(`zigbee2mqtt/${deviceId}`, JSON.stringify({ action }), { qos: 1 }, (err) => {
            clearTimeout(t);
            c.removeListener('close', onClose);
            if (err) rej(err);
            else res();
          });
        });
        this.sent[deviceId]++;
        return;
      } catch (err) {
        if (published) this.unacked[deviceId]++;
        this.client?.end(true);
        this.client = undefined;
        if (Date.now() > end) throw new Error(`press ${deviceId} not acknowledged: ${String(err)}`);
        await sleep(100);
      }
    }
  }

  async close(): Promise<void> {
    await this.client?.endAsync();
  }
}

export interface EventRow {
  id: string;
  deviceId: string;
  seq: number;
  receivedAt: number;
}

/** The stored emergency calls, in the central's receive order (receivedAt, then insertion). */
export async function storedEvents(s: Setup, token: string): Promise<EventRow[]> {
  const r = await api<{ events: EventRow[] }>(s, token, '/api/events?limit=1000&kind=emergency_call');
  if (r.status !== 200) throw new Error(`GET /api/events: ${r.status}`);
  // the API answers newest first (received_at DESC, rowid DESC)
  return r.body.events.slice().reverse();
}

export interface Tally {
  sent: number;
  stored: number;
  duplicated: number;
  orderViolations: number;
  /** per device: stored seqs that should exist (0..n-1) but do not */
  gaps: Record<string, number[]>;
  perDevice: Record<string, { sent: number; unacked: number; stored: number }>;
}

/**
 * Exactly-once check. Per device the stored seqs must be 0..n-1 once each,
 * n between the PUBACKed presses and those plus the unacknowledged attempts;
 * and the receive order must be by increasing seq.
 */
export function tally(events: EventRow[], button: Pick<Button, 'sent' | 'unacked'>): Tally {
  const byDevice = new Map<string, EventRow[]>();
  for (const e of events) {
    const rows = byDevice.get(e.deviceId);
    if (rows) rows.push(e);
    else byDevice.set(e.deviceId, [e]);
  }
  let duplicated = events.length - new Set(events.map((e) => e.id)).size;
  let orderViolations = 0;
  const gaps: Record<string, number[]> = {};
  const perDevice: Tally['perDevice'] = {};
  const devices = new Set([...Object.keys(button.sent), ...byDevice.keys()]);
  for (const d of devices) {
    const rows = byDevice.get(d) ?? [];
    const seen = new Set<number>();
    let max = -1;
    for (const r of rows) {
      if (seen.has(r.seq)) duplicated++;
      seen.add(r.seq);
      if (r.seq < max) orderViolations++;
      max = Math.max(max, r.seq);
    }
    const n = Math.max(seen.size, button.sent[d] ?? 0);
    const missing: number[] = [];
    for (let i = 0; i < n; i++) if (!seen.has(i)) missing.push(i);
    if (missing.length) gaps[d] = missing;
    perDevice[d] = { sent: button.sent[d] ?? 0, unacked: button.unacked[d] ?? 0, stored: rows.length };
  }
  const sent = Object.values(button.sent).reduce((a, b) => a + b, 0);
  return { sent, stored: events.length, duplicated, orderViolations, gaps, perDevice };
}

export function line(name: string, t: Tally): string {
  return `scenario ${name}: sent ${t.sent}, stored ${t.stored}, duplicated ${t.duplicated}, order violations ${t.orderViolations}`;
}

/**
 * Waits until the central holds at least `expected` calls, then a little
 * longer (a redelivery would land now), and returns the final tally.
 */
export async function settle(
  site: FaultSite,
  button: Button,
  opts: { timeoutMs?: number; graceMs?: number } = {},
): Promise<Tally> {
  const expected = button.totalSent;
  await until(
    async () => (await storedEvents(site.s, await site.token())).length >= expected,
    opts.timeoutMs ?? 40_000,
    250,
  );
  await sleep(opts.graceMs ?? 1500);
  return tally(await storedEvents(site.s, await site.token()), button);
}

/**
 * The standard load: `rounds` rounds over `devices`, one action per device
 * per round (presses in even rounds, bedside cancels in odd ones), `gapMs`
 * apart; `during(i)` runs (awaited) before round i, which is where a scenario
 * injects its fault (or starts one without awaiting it).
 */
export async function pressRounds(
  button: Button,
  devices: string[],
  rounds: number,
  gapMs: number,
  during: (round: number) => Promise<void> | void = () => {},
): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    await during(r);
    for (const d of devices) await button.press(d, r % 2 === 0 ? 'single' : 'double');
    if (gapMs) await sleep(gapMs);
  }
}

/**
 * The routine kind used for backlogs: fire-control-room attendance is not an
 * alarm, so it drains in the normal lane, behind emergency calls.
 */
export const BACKLOG_KIND = 'attendance';

/** A fire-control-room check-in: the routine event of the backlogs. */
export function routineEvent(deviceId: string, i: number): NewEvent {
  return {
    kind: BACKLOG_KIND,
    deviceId,
    data: { source: 'badge', action: 'check_in', operatorId: `op-${i % 7}`, room: 'fire' },
  };
}

/** An emergency call (press, then bedside cancel, alternately per device): an alarm-lane backlog. */
export function callEvent(deviceId: string, i: number, devices: number): NewEvent {
  return {
    kind: 'emergency_call',
    deviceId,
    data: { action: Math.floor(i / devices) % 2 === 0 ? 'pressed' : 'cancelled', raw: 'backlog' },
  };
}

/**
 * Writes `n` events (routine ones unless `make` says otherwise), round-robin
 * over `devices`, into a stopped gateway's outbox through `Outbox.add`, `batch` adds per transaction, as if
 * they had piled up while the central was unreachable.
 */
export async function fillOutbox(
  gatewayDataDir: string,
  siteId: string,
  devices: string[],
  n: number,
  batch = 5000,
  onProgress?: (done: number) => void,
  make: (deviceId: string, i: number) => NewEvent = routineEvent,
): Promise<void> {
  const db = openDatabase(join(gatewayDataDir, 'gateway.db'), { synchronous: 'FULL' });
  try {
    const outbox = new Outbox(db, siteId);
    for (let done = 0; done < n; ) {
      const k = Math.min(batch, n - done);
      const adds = [];
      for (let i = 0; i < k; i++) {
        adds.push(outbox.add(make(devices[(done + i) % devices.length]!, done + i)));
      }
      await Promise.all(adds); // one event-loop turn: one transaction
      done += k;
      onProgress?.(done);
    }
  } finally {
    db.close();
  }
}

/** Read-only view of the central's store, for counts the HTTP API does not give (it caps lists at 1000). */
export class CentralDbView {
  private readonly db: Database.Database;

  constructor(centralDataDir: string) {
    this.db = new Database(join(centralDataDir, 'central.db'), { readonly: true, fileMustExist: true });
    this.db.pragma('busy_timeout = 5000');
  }

  private cursor = 0;
  private readonly tallies = new Map<string, Map<string, number>>(); // kind -> device -> count

  /**
   * Stored events of a kind, leaving out the devices in `except`. Counts
   * incrementally by rowid (events are never deleted here), so polling it
   * does not rescan a table of a million rows (there is no index on kind).
   */
  count(kind: string, except: string[] = []): number {
    const next = this.db.prepare(
      'SELECT rowid AS r, kind AS k, device_id AS d FROM events WHERE rowid > ? ORDER BY rowid LIMIT 50000',
    );
    for (;;) {
      const rows = next.all(this.cursor) as Array<{ r: number; k: string; d: string }>;
      for (const { r, k, d } of rows) {
        const byDevice = this.tallies.get(k) ?? new Map<string, number>();
        byDevice.set(d, (byDevice.get(d) ?? 0) + 1);
        this.tallies.set(k, byDevice);
        this.cursor = r;
      }
      if (rows.length < 50_000) break;
    }
    let n = 0;
    for (const [d, c] of this.tallies.get(kind) ?? []) if (!except.includes(d)) n += c;
    return n;
  }

  /** Events of a kind in the central's receive order (received_at, then insertion). */
  events(kind: string): EventRow[] {
    return this.db
      .prepare(
        `SELECT id, device_id AS deviceId, seq, received_at AS receivedAt FROM events
         WHERE kind = ? ORDER BY received_at, rowid`,
      )
      .all(kind) as EventRow[];
  }

  close(): void {
    this.db.close();
  }
}
