/**
 * Closed-loop load generators for `npm run bench:panels` (a), built on the
 * project's simulators: each connection is one panel / transmission device
 * that sends a frame, waits for the ACK / confirm, and sends the next, as the
 * equipment does. Bounded by time and by a frame count; the first
 * `warmSeconds` are not counted.
 */
import { Dc09Dialler } from '../simulators/dc09/dialler.js';
import { Gb26875DeviceSim } from '../simulators/gb26875/device.js';

export interface LoadOptions {
  port: number;
  connections: number;
  warmSeconds: number;
  seconds: number;
  /** Upper bound on frames sent, over all connections and the warm-up. */
  maxFrames: number;
}

export interface LoadResult {
  /** Acknowledged inside the measuring window. */
  acked: number;
  /** Acknowledged in all (warm-up included), to compare with the server's deliveries. */
  ackedTotal: number;
  /** Other outcomes (NAK, DUH, TIMEOUT, deny, no confirm, ...) in all. */
  other: Record<string, number>;
  /** Length of the measuring window actually used, s. */
  seconds: number;
  /** Round trips (send → ACK) inside the window, ms. */
  rtt: number[];
}

/** One connection's send-and-wait step: resolves with 'ack' or the other outcome's name. */
type Step = (i: number) => Promise<string>;

async function drive(opts: LoadOptions, steps: Step[]): Promise<LoadResult> {
  const t0 = performance.now();
  const from = t0 + opts.warmSeconds * 1000;
  const until = from + opts.seconds * 1000;
  const r: LoadResult = { acked: 0, ackedTotal: 0, other: {}, seconds: 0, rtt: [] };
  let sent = 0;
  let last = from;
  await Promise.all(
    steps.map(async (step) => {
      for (let i = 0; performance.now() < until && sent < opts.maxFrames; i++) {
        sent++;
        const a = performance.now();
        const outcome = await step(i);
        const b = performance.now();
        if (outcome !== 'ack') r.other[outcome] = (r.other[outcome] ?? 0) + 1;
        else {
          r.ackedTotal++;
          if (b >= from && b <= until) {
            r.acked++;
            r.rtt.push(b - a);
            last = Math.max(last, b);
          }
        }
      }
    }),
  );
  r.seconds = (Math.min(until, Math.max(last, performance.now())) - from) / 1000;
  return r;
}

/**
 * DC-09 panels (distinct accounts) sending Contact ID or SIA fire alarms and
 * their restores, or periodic test reports (`test`: no alert downstream).
 */
export async function dc09Load(
  opts: LoadOptions & { accounts: string[]; key?: string; format: 'cid' | 'sia'; events?: 'fire' | 'test' },
): Promise<LoadResult> {
  const diallers = opts.accounts.slice(0, opts.connections).map(
    (account) =>
      new Dc09Dialler({
        host: '127.0.0.1',
        port: opts.port,
        proto: 'tcp',
        account,
        format: opts.format,
        ...(opts.key ? { key: opts.key } : {}),
        timeoutMs: 5000,
      }),
  );
  try {
    return await drive(
      opts,
      diallers.map((d) => async (i) => {
        const zone = 1 + (Math.floor(i / 2) % 50);
        const res = await d.sendEvent(
          opts.events === 'test'
            ? { code: 'test', zone: 0 }
            : { code: 'fire', qualifier: i % 2 ? 'restore' : 'new', zone },
        );
        return res.type === 'ACK' ? 'ack' : res.type;
      }),
    );
  } finally {
    await Promise.all(diallers.map((d) => d.close()));
  }
}

/** Part status words: normal plus fire (bit 1) or start (bit 5, linked equipment started: no alert downstream). */
const ACTIVE = { fire: 0x0003, start: 0x0021 } as const;
const NORMAL = 0x0001;

/** GB/T 26875.3 transmission devices (distinct addresses) reporting a part state and its restore. */
export async function gb26875Load(
  opts: LoadOptions & { state?: keyof typeof ACTIVE; addressBase?: number },
): Promise<LoadResult> {
  const devices = Array.from(
    { length: opts.connections },
    (_, i) =>
      new Gb26875DeviceSim({
        host: '127.0.0.1',
        port: opts.port,
        address: (opts.addressBase ?? 0x1000) + i,
        confirmTimeoutMs: 5000,
        maxAttempts: 1,
      }),
  );
  await Promise.all(devices.map((d) => d.connect()));
  const parts = ['3F-corridor', '2F-room-201', '1F-hall-button', '1F-kitchen'];
  try {
    return await drive(
      opts,
      devices.map((d) => async (i) => {
        const part = parts[Math.floor(i / 2) % parts.length] as string;
        const res = await d.partState(part, i % 2 ? NORMAL : ACTIVE[opts.state ?? 'fire']);
        return res.confirmed ? 'ack' : res.denied ? 'deny' : 'no_confirm';
      }),
    );
  } finally {
    await Promise.all(devices.map((d) => d.close()));
  }
}
