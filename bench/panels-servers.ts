/**
 * The server side of `npm run bench:panels` (a): runs in a child process so
 * the server has its own event loop, apart from the load generator, and its
 * CPU time can be told apart from the generator's. Either
 * a real receiver (DC-09 or GB/T 26875.3, with a sink that only counts) or
 * the bare baseline: a TCP server that cuts frames as cheaply as it can
 * (DC-09: at each <CR>; GB 26875: by the length field) and answers each with
 * a canned ACK / confirm, without parsing, checking or decoding anything.
 */

import { type ChildProcess, fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseKey } from '../gateway/adapters/dc09/crypto.js';
import { Dc09Receiver } from '../gateway/adapters/dc09/receiver.js';
import { buildAck } from '../gateway/adapters/dc09/reply.js';
import { Command, encodeFrame, HEADER_BYTES } from '../gateway/adapters/gb26875/frame.js';
import { Gb26875Receiver } from '../gateway/adapters/gb26875/receiver.js';
import { epochToTime } from '../gateway/adapters/gb26875/time.js';

export type ServerKind = 'dc09' | 'dc09-bare' | 'gb26875' | 'gb26875-bare';

export interface ServerSpec {
  kind: ServerKind;
  /** DC-09 accounts the receiver knows (one per load connection). */
  accounts: string[];
  /** AES key (hex) of every account, when the panels encrypt. */
  key?: string;
}

export interface ServerStats {
  /** Sink calls (real receivers) or frames answered (bare servers). */
  delivered: number;
  counters: Record<string, number>;
  /** CPU time (user + system) of the server process since it was ready, µs. */
  cpuUs: number;
}

type ToChild = { type: 'stats' } | { type: 'stop' };
type FromChild = { type: 'ready'; port: number } | { type: 'stats'; stats: ServerStats };
const SPEC_ENV = 'CAREWATCH_PANELS_BENCH_SERVER';

const CR = 0x0d;
const GB_LEN_OFFSET = 2 + 22; // "@@" + header offset 22: application data length, 2 bytes LE
const GB_OVERHEAD = 2 + HEADER_BYTES + 1 + 2;

/** Bare DC-09 baseline: one canned ACK per <CR>. */
function bareDc09(spec: ServerSpec, stats: ServerStats): net.Server {
  const key = spec.key ? parseKey(spec.key) : undefined;
  const ack = Buffer.from(
    buildAck({ seq: '0001', prefix: '0', account: spec.accounts[0] ?? '1234' }, { now: Date.now(), key }),
    'latin1',
  );
  return net.createServer((s) => {
    s.setNoDelay(true);
    s.on('error', () => {});
    s.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(CR); i >= 0; i = chunk.indexOf(CR, i + 1)) {
        stats.delivered++;
        s.write(ack);
      }
    });
  });
}

/**
 * Bare GB 26875 baseline: cuts frames by the length field and answers a
 * canned confirm carrying the frame's serial number (the two serial bytes
 * copied, the sum checksum adjusted by their difference), since a device
 * matches a confirm to its frame by serial.
 */
function bareGb26875(stats: ServerStats): net.Server {
  const confirm = encodeFrame({
    serial: 0,
    time: epochToTime(Date.now(), 480),
    source: 0,
    destination: 0,
    command: Command.confirm,
  });
  const ckAt = confirm.length - 3;
  return net.createServer((s) => {
    s.setNoDelay(true);
    s.on('error', () => {});
    let buf: Buffer = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= GB_LEN_OFFSET + 2) {
        const total = GB_OVERHEAD + buf.readUInt16LE(GB_LEN_OFFSET);
        if (buf.length < total) break;
        const reply = Buffer.from(confirm);
        reply[2] = buf[2] ?? 0;
        reply[3] = buf[3] ?? 0;
        reply[ckAt] = ((confirm[ckAt] ?? 0) + (reply[2] ?? 0) + (reply[3] ?? 0)) & 0xff;
        s.write(reply);
        stats.delivered++;
        buf = buf.subarray(total);
      }
    });
  });
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as net.AddressInfo).port;
}

async function runChild(spec: ServerSpec): Promise<void> {
  const send = (m: FromChild) => process.send?.(m);
  const stats: ServerStats = { delivered: 0, counters: {}, cpuUs: 0 };
  let stop: () => Promise<void>;
  let counters = (): Record<string, number> => ({});
  let bound: number;
  if (spec.kind === 'dc09') {
    const rx = new Dc09Receiver({
      host: '127.0.0.1',
      tcpPort: 0,
      udpPort: null,
      accounts: spec.accounts.map((account) => ({ account, ...(spec.key ? { key: spec.key } : {}) })),
      sink: async () => {
        stats.delivered++;
      },
    });
    await rx.start();
    bound = rx.tcpPort as number;
    stop = () => rx.stop();
    counters = () => rx.stats().counters;
  } else if (spec.kind === 'gb26875') {
    const rx = new Gb26875Receiver({
      host: '127.0.0.1',
      port: 0,
      maxConnections: 1024,
      sink: async () => {
        stats.delivered++;
      },
    });
    await rx.start();
    bound = rx.port as number;
    stop = () => rx.stop();
    counters = () => rx.stats().counters;
  } else {
    const server = spec.kind === 'dc09-bare' ? bareDc09(spec, stats) : bareGb26875(stats);
    bound = await listen(server);
    stop = () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.unref();
      });
  }
  const cpu0 = process.cpuUsage();
  process.on('message', (m: ToChild) => {
    stats.counters = counters();
    const cpu = process.cpuUsage(cpu0);
    stats.cpuUs = cpu.user + cpu.system;
    if (m.type === 'stats') send({ type: 'stats', stats });
    else void stop().then(() => process.exit(0));
  });
  send({ type: 'ready', port: bound });
}

/** A server of the given kind in a child process (node, IPC). */
export class ServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(spec: ServerSpec): Promise<ServerProcess> {
    const child = fork(fileURLToPath(import.meta.url), [], {
      env: {
        ...process.env,
        [SPEC_ENV]: JSON.stringify(spec),
        CAREWATCH_LOG_LEVEL: process.env.CAREWATCH_LOG_LEVEL ?? 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`bench server exited (${code}) before it was ready`)));
      child.once('message', (m: FromChild) => {
        if (m.type === 'ready') resolve(m.port);
      });
    });
    return new ServerProcess(child, port);
  }

  stats(): Promise<ServerStats> {
    return new Promise((resolve) => {
      const on = (m: FromChild) => {
        if (m.type !== 'stats') return;
        this.child.off('message', on);
        resolve(m.stats);
      };
      this.child.on('message', on);
      this.child.send({ type: 'stats' } satisfies ToChild);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.send({ type: 'stop' } satisfies ToChild);
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

const own = process.env[SPEC_ENV];
if (own && process.send) void runChild(JSON.parse(own) as ServerSpec);
