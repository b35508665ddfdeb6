/**
 * The publishing side of `bench:ingest`: simulated gateways, each its own
 * MQTT.js connection with its own credentials, publishing valid attendance
 * envelopes at QoS 1 on their own site's events topic, at most `window`
 * publishes in flight per gateway, a bounded total. The figure is taken
 * where the work ends: PUBACKs, a subscriber's count, or rows counted in the
 * central store.
 */
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { buildEnvelope, siteTopic } from '../protocol/index.js';

export interface BenchGateway {
  siteId: string;
  gatewayId: string;
  password: string;
}

export const BENCH_KIND = 'attendance';
const DEVICES_PER_GATEWAY = 4;

export function benchGateways(n: number, password: (i: number) => string): BenchGateway[] {
  return Array.from({ length: n }, (_, i) => ({
    siteId: `bench-site-${i + 1}`,
    gatewayId: `gw-bench-${i + 1}`,
    password: password(i),
  }));
}

/** Fresh envelopes (new ids) for one run, built before the clock starts. */
function payloads(gw: BenchGateway, count: number, seqBase: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => {
    const env = buildEnvelope({
      kind: BENCH_KIND,
      siteId: gw.siteId,
      deviceId: `att-${(i % DEVICES_PER_GATEWAY) + 1}`,
      seq: seqBase + Math.floor(i / DEVICES_PER_GATEWAY),
      data: {
        source: 'badge',
        action: i % 2 ? 'check_out' : 'check_in',
        operatorId: `op-${i % 7}`,
        room: 'fcr',
      },
    });
    return Buffer.from(JSON.stringify(env));
  });
}

/** Something that counts what has arrived where the work ends. */
export type Counter = { read(): Promise<number>; close(): Promise<void> };

export function sqliteCounter(dbFile: string): Counter {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const q = db.prepare('SELECT count(*) AS n FROM events WHERE kind = ?');
  return {
    read: async () => (q.get(BENCH_KIND) as { n: number }).n,
    close: async () => {
      db.close();
    },
  };
}

export async function pgCounter(url: string): Promise<Counter> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return {
    read: async () =>
      (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE kind = $1', [BENCH_KIND]))
        .rows[0]!.n,
    close: () => c.end(),
  };
}

/** A plain QoS 1 subscriber to every site's events (the consumer of the bare-broker baseline). */
export async function eventsSubscriber(url: string): Promise<Counter> {
  const c = await mqtt.connectAsync(url, { clientId: `bench-sub-${process.pid}`, reconnectPeriod: 0 });
  let n = 0;
  c.on('message', () => n++);
  await c.subscribeAsync('carewatch/v1/sites/+/events', { qos: 1 });
  return { read: async () => n, close: () => c.endAsync() };
}

export interface LoadResult {
  sent: number;
  acked: number;
  /** Arrived where the work ends (PUBACKs when no counter). */
  arrived: number;
  /** Seconds from the first publish until everything arrived (or the deadline). */
  seconds: number;
  ackSeconds: number;
  complete: boolean;
  rate: number;
}

/**
 * Connects the gateways (anonymously when `anonymous`), publishes
 * `perGateway` events from each, and waits until every one is acknowledged
 * and, with a counter, counted there (polled every `pollMs`).
 */
export async function runLoad(o: {
  url: string;
  gateways: BenchGateway[];
  perGateway: number;
  window: number;
  anonymous?: boolean;
  counter?: Counter;
  deadlineMs: number;
  seqBase?: number;
  pollMs?: number;
  /** Called when the clock starts (connected, payloads built) and when it stops: CPU readings go here. */
  mark?: (at: 'start' | 'end') => void;
}): Promise<LoadResult> {
  const clients: MqttClient[] = [];
  try {
    for (const gw of o.gateways) {
      clients.push(
        await mqtt.connectAsync(o.url, {
          clientId: gw.gatewayId,
          ...(o.anonymous ? {} : { username: gw.gatewayId, password: gw.password }),
          reconnectPeriod: 0,
          keepalive: 30,
        }),
      );
    }
    const lists = o.gateways.map((gw) => payloads(gw, o.perGateway, o.seqBase ?? 0));
    const total = o.perGateway * o.gateways.length;
    const before = o.counter ? await o.counter.read() : 0;
    let acked = 0;
    let failed = 0;
    o.mark?.('start');
    const t0 = performance.now();
    let ackAt = Number.NaN;
    const allAcked = new Promise<void>((resolveAll) => {
      clients.forEach((client, g) => {
        const topic = siteTopic(o.gateways[g]!.siteId, 'events');
        const list = lists[g]!;
        let next = 0;
        let inflight = 0;
        const pump = () => {
          while (inflight < o.window && next < list.length) {
            inflight++;
            client.publish(topic, list[next++]!, { qos: 1 }, (err) => {
              inflight--;
              if (err) failed++;
              else acked++;
              if (acked + failed === total) {
                ackAt = performance.now();
                resolveAll();
              } else pump();
            });
          }
        };
        pump();
      });
    });
    const deadline = t0 + o.deadlineMs;
    const timedOut = new Promise<void>((r) => setTimeout(r, o.deadlineMs));
    await Promise.race([allAcked, timedOut]);
    let arrived = acked;
    let end = Number.isNaN(ackAt) ? performance.now() : ackAt;
    if (o.counter) {
      for (;;) {
        arrived = (await o.counter.read()) - before;
        end = performance.now();
        if (arrived >= total || end > deadline) break;
        await new Promise((r) => setTimeout(r, o.pollMs ?? 50));
      }
    }
    o.mark?.('end');
    const seconds = (end - t0) / 1000;
    if (failed) throw new Error(`${failed} publishes failed`);
    return {
      sent: total,
      acked,
      arrived,
      seconds,
      ackSeconds: (ackAt - t0) / 1000,
      complete: arrived === total && acked === total,
      rate: arrived / seconds,
    };
  } finally {
    await Promise.all(clients.map((c) => c.endAsync().catch(() => undefined)));
  }
}
