import dgram from 'node:dgram';
import net from 'node:net';
import { formatAdmCidData } from '../../gateway/adapters/dc09/contact-id.js';
import { parseKey } from '../../gateway/adapters/dc09/crypto.js';
import { buildFrame } from '../../gateway/adapters/dc09/frame.js';
import { type Dc09Reply, parseReply } from '../../gateway/adapters/dc09/reply.js';
import { formatSiaData } from '../../gateway/adapters/dc09/sia.js';
import { FrameSplitter } from '../../gateway/adapters/dc09/splitter.js';
import { CarewatchError, errorMessage } from '../../lib/errors.js';
import { logger } from '../../lib/logger.js';

const log = logger('sim:dc09');

export interface DiallerOptions {
  host: string;
  port: number;
  proto: 'tcp' | 'udp';
  account: string;
  /** AES key (hex); messages are encrypted when set. */
  key?: string;
  format: 'cid' | 'sia';
  receiver?: string;
  prefix?: string;
  /** Reply wait per attempt. Default 3000 ms. */
  timeoutMs?: number;
  /** Panel clock error in ms (to provoke NAKs). Default 0. */
  clockOffsetMs?: number;
  /** Send timestamps on plain messages too. Default true. */
  timestamps?: boolean;
  now?: () => number;
  startSeq?: number;
  /** Extra attempts after a NAK or a timeout. Default 0. */
  retries?: number;
}

export type Qualifier = 'new' | 'restore' | 'still_present';

export interface DiallerEvent {
  /** A named event (`fire`, `medical`, ...) or a raw code: 3 digits (cid) / 2 letters (sia). */
  code: string;
  qualifier?: Qualifier;
  zone?: number;
  partition?: number;
  /** User number (open/close). */
  user?: number;
  xdata?: string[];
}

export type DiallerResult =
  | { type: 'ACK' | 'NAK' | 'DUH'; seq: string; reply: Dc09Reply; frame: string }
  | { type: 'TIMEOUT' | 'INVALID'; seq: string; frame: string; message: string };

/** Named events: Contact ID code and SIA alarm/restore codes. */
export const NAMED_EVENTS: Record<string, { cid: string; sia: string; siaRestore: string; user?: boolean }> =
  {
    fire: { cid: '110', sia: 'FA', siaRestore: 'FH' },
    smoke: { cid: '111', sia: 'FA', siaRestore: 'FH' },
    medical: { cid: '100', sia: 'MA', siaRestore: 'MH' },
    emergency: { cid: '101', sia: 'MA', siaRestore: 'MH' },
    panic: { cid: '120', sia: 'PA', siaRestore: 'PH' },
    duress: { cid: '121', sia: 'HA', siaRestore: 'HH' },
    burglary: { cid: '130', sia: 'BA', siaRestore: 'BH' },
    tamper: { cid: '137', sia: 'TA', siaRestore: 'TR' },
    'ac-loss': { cid: '301', sia: 'AT', siaRestore: 'AR' },
    'low-battery': { cid: '302', sia: 'YT', siaRestore: 'YR' },
    open: { cid: '401', sia: 'OP', siaRestore: 'CL', user: true },
    close: { cid: '401', sia: 'CL', siaRestore: 'CL', user: true },
    test: { cid: '602', sia: 'RP', siaRestore: 'RP' },
  };

/**
 * A scriptable DC-09 dialler (premises equipment): builds ADM-CID or SIA-DCS
 * frames, plain or AES-encrypted, sends them over TCP (one connection, kept
 * open, reopened when the receiver closes it) or UDP, and returns the parsed
 * ACK / NAK / DUH, or TIMEOUT.
 */
export class Dc09Dialler {
  private seq: number;
  private tcp: net.Socket | undefined;
  private udp: dgram.Socket | undefined;
  private waiter: ((frame: string) => void) | undefined;
  private readonly key: Buffer | undefined;
  offsetMs: number;

  constructor(private readonly opts: DiallerOptions) {
    this.seq = opts.startSeq ?? 1;
    this.key = opts.key ? parseKey(opts.key) : undefined;
    this.offsetMs = opts.clockOffsetMs ?? 0;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)() + this.offsetMs;
  }

  private nextSeq(): string {
    const s = String(this.seq).padStart(4, '0');
    this.seq = this.seq >= 9999 ? 1 : this.seq + 1;
    return s;
  }

  /** Builds the data block for an event in the dialler's format. */
  dataFor(ev: DiallerEvent): string {
    const named = NAMED_EVENTS[ev.code];
    const q = ev.qualifier ?? (ev.code === 'close' ? 'restore' : 'new');
    if (this.opts.format === 'cid') {
      const code = named?.cid ?? ev.code;
      const zone = named?.user || ev.user !== undefined ? (ev.user ?? ev.zone ?? 0) : (ev.zone ?? 0);
      return formatAdmCidData(
        { qualifier: q === 'still_present' ? 'status' : q, code, group: ev.partition ?? 1, zone },
        this.opts.account,
      );
    }
    const code = named ? (q === 'restore' ? named.siaRestore : named.sia) : ev.code;
    const address = named?.user ? (ev.user ?? ev.zone ?? null) : (ev.zone ?? null);
    return formatSiaData({ code, address, area: ev.partition ?? 1 }, this.opts.account);
  }

  /** Builds the frame without sending it. */
  frameFor(id: 'ADM-CID' | 'SIA-DCS' | 'NULL', data: string, seq: string, xdata?: string[]): string {
    const withTs = this.key !== undefined || this.opts.timestamps !== false;
    return buildFrame({
      id,
      seq,
      ...(this.opts.receiver !== undefined ? { receiver: this.opts.receiver } : {}),
      prefix: this.opts.prefix ?? '0',
      account: this.opts.account,
      data,
      ...(xdata ? { xdata } : {}),
      timestamp: withTs ? this.now() : null,
      ...(this.key ? { key: this.key } : {}),
    });
  }

  async sendEvent(ev: DiallerEvent): Promise<DiallerResult> {
    const id = this.opts.format === 'cid' ? 'ADM-CID' : 'SIA-DCS';
    const data = this.dataFor(ev);
    return this.deliver((seq) => this.frameFor(id, data, seq, ev.xdata));
  }

  async heartbeat(): Promise<DiallerResult> {
    return this.deliver((seq) => this.frameFor('NULL', '', seq));
  }

  /**
   * Sends with the panel's retry rules: the same sequence number on every
   * attempt; after a timeout the identical frame again, after a NAK a frame
   * rebuilt with the clock corrected from the NAK's timestamp.
   */
  private async deliver(build: (seq: string) => string): Promise<DiallerResult> {
    const seq = this.nextSeq();
    let frame = build(seq);
    let res = await this.sendFrame(frame, seq);
    for (let i = 0; i < (this.opts.retries ?? 0) && (res.type === 'NAK' || res.type === 'TIMEOUT'); i++) {
      if (res.type === 'NAK') frame = build(seq);
      res = await this.sendFrame(frame, seq);
    }
    return res;
  }

  /** Sends an already built frame and waits for one reply. */
  async sendFrame(frame: string, seq = ''): Promise<DiallerResult> {
    const raw = await this.exchange(frame);
    if (raw === null) return { type: 'TIMEOUT', seq, frame, message: `no reply within ${this.timeoutMs} ms` };
    const parsed = parseReply(raw, this.key);
    if (!parsed.ok) return { type: 'INVALID', seq, frame, message: `${parsed.code}: ${parsed.message}` };
    if (parsed.reply.type === 'NAK' && parsed.reply.timestampMs !== null) {
      // Resynchronise with the receiver's clock, as a panel does.
      this.offsetMs += parsed.reply.timestampMs - this.now();
    }
    return { type: parsed.reply.type, seq, reply: parsed.reply, frame };
  }

  private get timeoutMs(): number {
    return this.opts.timeoutMs ?? 3000;
  }

  private async exchange(frame: string): Promise<string | null> {
    const got = new Promise<string | null>((resolve) => {
      const t = setTimeout(() => {
        this.waiter = undefined;
        resolve(null);
      }, this.timeoutMs);
      this.waiter = (f) => {
        clearTimeout(t);
        this.waiter = undefined;
        resolve(f);
      };
    });
    const data = Buffer.from(frame, 'latin1');
    if (this.opts.proto === 'udp') {
      const sock = await this.udpSocket();
      sock.send(data, this.opts.port, this.opts.host);
    } else {
      const sock = await this.tcpSocket();
      sock.write(data);
    }
    return got;
  }

  private async udpSocket(): Promise<dgram.Socket> {
    if (this.udp) return this.udp;
    const sock = dgram.createSocket(net.isIPv6(this.opts.host) ? 'udp6' : 'udp4');
    sock.on('message', (msg) => this.waiter?.(msg.toString('latin1')));
    sock.on('error', (err) => log.debug({ err: errorMessage(err) }, 'dialler UDP error'));
    await new Promise<void>((r) => sock.bind(0, r));
    this.udp = sock;
    return sock;
  }

  private async tcpSocket(): Promise<net.Socket> {
    if (this.tcp && !this.tcp.destroyed) return this.tcp;
    const sock = net.connect({ host: this.opts.host, port: this.opts.port });
    const splitter = new FrameSplitter(4096);
    sock.on('data', (chunk) => {
      for (const f of splitter.push(chunk).frames) this.waiter?.(f);
    });
    sock.on('error', (err) => log.debug({ err: errorMessage(err) }, 'dialler TCP error'));
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    this.tcp = sock;
    return sock;
  }

  async close(): Promise<void> {
    this.tcp?.destroy();
    this.tcp = undefined;
    const u = this.udp;
    this.udp = undefined;
    if (u) await new Promise<void>((r) => u.close(() => r()));
  }
}

// ---- scripts and CLI -----------------------------------------------------

export type ScriptStep =
  | { kind: 'event'; event: DiallerEvent; label: string }
  | { kind: 'heartbeat'; label: string }
  | { kind: 'sleep'; ms: number; label: string };

/**
 * Parses a script such as `fire:1;restore:1;heartbeat;sleep:500;cid:1110:01:015;sia:BA005`.
 * `NAME:zone` sends a named event; `restore:zone` restores the last event
 * sent for that zone (fire if none); `cid:QXYZ:GG:CCC` and `sia:CODEaddr`
 * send raw codes.
 */
export function parseScript(script: string): ScriptStep[] {
  const steps: ScriptStep[] = [];
  const lastByZone = new Map<number, string>();
  for (const part of script
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name = '', ...args] = part.split(':');
    const n = (s: string | undefined, what: string): number => {
      if (s === undefined || !/^\d+$/.test(s)) {
        throw new CarewatchError('DC09_SCRIPT', `script step "${part}": ${what} must be a number`);
      }
      return Number(s);
    };
    if (name === 'heartbeat' || name === 'null') steps.push({ kind: 'heartbeat', label: part });
    else if (name === 'sleep') steps.push({ kind: 'sleep', ms: n(args[0], 'duration'), label: part });
    else if (name === 'restore') {
      const zone = args[0] === undefined ? 1 : n(args[0], 'zone');
      const code = lastByZone.get(zone) ?? 'fire';
      steps.push({ kind: 'event', event: { code, qualifier: 'restore', zone }, label: part });
    } else if (name === 'cid') {
      const m = /^([136])(\d{3})$/.exec(args[0] ?? '');
      if (!m) throw new CarewatchError('DC09_SCRIPT', `script step "${part}": expected cid:QXYZ:GG:CCC`);
      const q = ({ '1': 'new', '3': 'restore', '6': 'still_present' } as const)[m[1] as '1' | '3' | '6'];
      const event = {
        code: m[2] ?? '',
        qualifier: q,
        partition: n(args[1] ?? '1', 'group'),
        zone: n(args[2] ?? '0', 'zone'),
      };
      steps.push({ kind: 'event', event, label: part });
    } else if (name === 'sia') {
      const m = /^([A-Z]{2})(\d*)$/.exec(args[0] ?? '');
      if (!m) throw new CarewatchError('DC09_SCRIPT', `script step "${part}": expected sia:CODE[address]`);
      steps.push({
        kind: 'event',
        event: { code: m[1] ?? '', ...(m[2] ? { zone: Number(m[2]) } : {}) },
        label: part,
      });
    } else if (NAMED_EVENTS[name]) {
      const num = args[0] === undefined ? 1 : n(args[0], 'zone');
      const user = NAMED_EVENTS[name]?.user;
      if (!user) lastByZone.set(num, name);
      steps.push({
        kind: 'event',
        event: { code: name, ...(user ? { user: num } : { zone: num }) },
        label: part,
      });
    } else {
      throw new CarewatchError('DC09_SCRIPT', `script step "${part}": unknown step "${name}"`, {
        known: ['heartbeat', 'sleep', 'restore', 'cid', 'sia', ...Object.keys(NAMED_EVENTS)],
      });
    }
  }
  return steps;
}

function flags(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (!a.startsWith('--')) throw new CarewatchError('DC09_ARGS', `unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else out[a.slice(2)] = argv[++i] ?? '';
  }
  return out;
}

/**
 * CLI entry: `--host 127.0.0.1 --port 7000 --account 1234 [--key HEX]
 * [--proto tcp|udp] [--format cid|sia] [--receiver R] [--prefix L]
 * [--retries 2] [--timeout-ms 3000] --script "fire:1;restore:1;heartbeat"`.
 * Prints one line per step; returns 0 when every step was ACKed, else 1
 * (2 for bad arguments).
 */
export async function runDialler(
  argv: string[],
  print: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<number> {
  let steps: ScriptStep[];
  let dialler: Dc09Dialler;
  try {
    const f = flags(argv);
    const proto = f.proto ?? 'tcp';
    const format = f.format ?? 'cid';
    if (proto !== 'tcp' && proto !== 'udp')
      throw new CarewatchError('DC09_ARGS', '--proto must be tcp or udp');
    if (format !== 'cid' && format !== 'sia')
      throw new CarewatchError('DC09_ARGS', '--format must be cid or sia');
    if (!f.port || !/^\d+$/.test(f.port)) throw new CarewatchError('DC09_ARGS', '--port is required');
    if (!f.account || !/^[0-9A-Fa-f]{3,16}$/.test(f.account)) {
      throw new CarewatchError('DC09_ARGS', '--account must be 3..16 hex digits');
    }
    steps = parseScript(f.script ?? 'heartbeat');
    dialler = new Dc09Dialler({
      host: f.host ?? '127.0.0.1',
      port: Number(f.port),
      proto,
      format,
      account: f.account.toUpperCase(),
      ...(f.key ? { key: f.key } : {}),
      ...(f.receiver ? { receiver: f.receiver } : {}),
      ...(f.prefix ? { prefix: f.prefix } : {}),
      ...(f['timeout-ms'] ? { timeoutMs: Number(f['timeout-ms']) } : {}),
      retries: Number(f.retries ?? 2),
    });
  } catch (err) {
    print(`error: ${errorMessage(err)}`);
    return 2;
  }
  let allAcked = true;
  try {
    for (const step of steps) {
      if (step.kind === 'sleep') {
        await new Promise((r) => setTimeout(r, step.ms));
        continue;
      }
      const res = step.kind === 'heartbeat' ? await dialler.heartbeat() : await dialler.sendEvent(step.event);
      print(`${step.label} -> ${res.type} ${res.seq}${'message' in res ? ` (${res.message})` : ''}`);
      if (res.type !== 'ACK') allAcked = false;
    }
  } finally {
    await dialler.close();
  }
  return allAcked ? 0 : 1;
}
