import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { type Clock, systemClock } from '../../../lib/clock.js';
import { errorMessage } from '../../../lib/errors.js';
import { logger } from '../../../lib/logger.js';
import { parseKey } from './crypto.js';
import { decodeEvents } from './decode.js';
import { type AccountPolicy, type Dc09Frame, parseFrame } from './frame.js';
import type { PanelEvent } from './mapping.js';
import type { Dc09AccountConfig, Dc09ReceiverOptions, PanelMessage } from './receiver-types.js';
import { buildAck, buildDuh } from './reply.js';
import { FrameSplitter } from './splitter.js';
import { Supervisor } from './supervision.js';

export type { Dc09AccountConfig, Dc09ReceiverOptions, PanelMessage } from './receiver-types.js';

const log = logger('gateway:dc09');

interface Meta {
  transport: 'tcp' | 'udp';
  remote: string;
}

const MAX_PENDING_PER_CONN = 16;

/**
 * SIA DC-09 receiver on TCP and UDP. Every frame is answered per the
 * standard (see frame.ts and reply.ts); an alarm is acknowledged only after
 * the sink has stored it, so an ACK means "durably taken over". Rejections
 * are counted by code in `stats().counters`.
 */
export class Dc09Receiver {
  private tcp: net.Server | undefined;
  private udp: dgram.Socket | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly accounts = new Map<string, Dc09AccountConfig & { keyBuf?: Buffer }>();
  private readonly done = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly counters: Record<string, number> = {};
  private supervisor: Supervisor | undefined;
  private ports: { tcp?: number; udp?: number } = {};

  constructor(private readonly opts: Dc09ReceiverOptions) {}

  private get clock(): Clock {
    return this.opts.clock ?? systemClock;
  }

  async start(): Promise<void> {
    for (const a of this.opts.accounts) {
      const account = a.account.toUpperCase();
      this.accounts.set(account, { ...a, account, ...(a.key ? { keyBuf: parseKey(a.key) } : {}) });
    }
    const host = this.opts.host ?? '0.0.0.0';
    if (this.opts.supervisionTimeoutS && this.opts.supervisionTimeoutS > 0) {
      this.supervisor = new Supervisor(this.clock, this.opts.supervisionTimeoutS * 1000, (acct, state) => {
        log.warn({ account: acct, state }, 'DC-09 account supervision changed');
        this.opts.onSupervision?.(acct, state);
      });
      for (const acct of this.accounts.keys()) this.supervisor.watch(acct);
    }
    if (this.opts.tcpPort !== null) {
      const server = net.createServer((s) => this.onConnection(s));
      server.maxConnections = this.opts.maxConnections ?? 256;
      server.on('error', (err) => log.error({ err: errorMessage(err) }, 'DC-09 TCP server error'));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.opts.tcpPort ?? 0, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.tcp = server;
      this.ports.tcp = (server.address() as net.AddressInfo).port;
    }
    if (this.opts.udpPort !== null) {
      const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      sock.on('message', (msg, rinfo) => this.onDatagram(sock, msg, rinfo));
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind(this.opts.udpPort ?? 0, host, () => {
          sock.off('error', reject);
          resolve();
        });
      });
      sock.on('error', (err) => log.error({ err: errorMessage(err) }, 'DC-09 UDP socket error'));
      this.udp = sock;
      this.ports.udp = sock.address().port;
    }
    log.info({ host, ...this.ports, accounts: this.accounts.size }, 'DC-09 receiver listening');
  }

  async stop(): Promise<void> {
    this.supervisor?.stop();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const tcp = this.tcp;
    this.tcp = undefined;
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
    const udp = this.udp;
    this.udp = undefined;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
  }

  /** Bound ports (after start). */
  get tcpPort(): number | undefined {
    return this.ports.tcp;
  }

  get udpPort(): number | undefined {
    return this.ports.udp;
  }

  stats(): { counters: Record<string, number>; connections: number; supervision: Record<string, string> } {
    return {
      counters: { ...this.counters },
      connections: this.sockets.size,
      supervision: this.supervisor?.states() ?? {},
    };
  }

  private count(key: string): void {
    this.counters[key] = (this.counters[key] ?? 0) + 1;
  }

  /**
   * Handles one frame and returns the reply to send (null: send nothing).
   * Never throws. Exposed for transports other than the built-in ones.
   */
  async process(input: string | Buffer, meta: Meta): Promise<string | null> {
    try {
      return await this.handle(input, meta);
    } catch (err) {
      this.count('DC09_INTERNAL');
      log.error({ err: errorMessage(err), ...meta }, 'DC-09 frame handling failed');
      return null;
    }
  }

  private lookup = (account: string): AccountPolicy | undefined => {
    const a = this.accounts.get(account);
    if (!a) return undefined;
    return {
      ...(a.keyBuf ? { key: a.keyBuf } : {}),
      ...(a.requireTimestamp !== undefined ? { requireTimestamp: a.requireTimestamp } : {}),
    };
  };

  private async handle(input: string | Buffer, meta: Meta): Promise<string | null> {
    const now = this.clock.now();
    const out = parseFrame(input, {
      now,
      lookup: this.lookup,
      ...(this.opts.windowPastS !== undefined ? { windowPastS: this.opts.windowPastS } : {}),
      ...(this.opts.windowFutureS !== undefined ? { windowFutureS: this.opts.windowFutureS } : {}),
      ...(this.opts.requireTimestamp !== undefined ? { requireTimestamp: this.opts.requireTimestamp } : {}),
      ...(this.opts.nakOnCorrupt ? { nakOnCorrupt: true } : {}),
    });
    if (!out.ok) {
      this.count(out.code);
      log.warn(
        { code: out.code, reason: out.message, account: out.header?.account, ...meta },
        'DC-09 frame rejected',
      );
      return out.reply ?? null;
    }
    const f = out.frame;
    const acct = this.accounts.get(f.account);
    if (!acct) return null; // parseFrame already checked; keeps the types honest
    if (
      (acct.receiver !== undefined && acct.receiver.toUpperCase() !== f.receiver) ||
      (acct.prefix !== undefined && acct.prefix.toUpperCase() !== f.prefix)
    ) {
      this.count('DC09_UNKNOWN_ACCOUNT');
      log.warn(
        { account: f.account, receiver: f.receiver, prefix: f.prefix, ...meta },
        'DC-09 account on wrong receiver/line',
      );
      return buildDuh(f);
    }
    this.supervisor?.seen(f.account);
    const ack = () => buildAck(f, { now: this.clock.now(), ...(acct.keyBuf ? { key: acct.keyBuf } : {}) });
    if (f.id === 'NULL') {
      this.count('HEARTBEAT');
      this.opts.onHeartbeat?.(f.account);
      return ack();
    }
    let events: PanelEvent[];
    try {
      events = decodeEvents(f);
    } catch (err) {
      this.count('DC09_BAD_DATA');
      log.warn({ account: f.account, reason: errorMessage(err), ...meta }, 'DC-09 data not understood');
      return buildDuh(f);
    }
    const key = dedupKey(f);
    this.prune(now);
    if ((this.done.get(key) ?? 0) > now) {
      this.count('DUPLICATE');
      return ack();
    }
    let pending = this.inflight.get(key);
    if (pending) {
      this.count('DUPLICATE');
    } else {
      const msg: PanelMessage = {
        account: f.account,
        format: f.id as 'ADM-CID' | 'SIA-DCS',
        encrypted: f.encrypted,
        seq: f.seq,
        ...(f.receiver !== undefined ? { receiver: f.receiver } : {}),
        prefix: f.prefix,
        events,
        xdata: f.xdata,
        panelTime: f.timestampMs,
        receivedAt: now,
        transport: meta.transport,
        remote: meta.remote,
        dedupKey: key,
      };
      pending = this.callSink(msg);
      this.inflight.set(key, pending);
      const p = pending;
      void p.then(
        () => {
          this.done.delete(key);
          this.done.set(key, this.clock.now() + (this.opts.dedupTtlMs ?? 600_000));
          this.inflight.delete(key);
        },
        () => this.inflight.delete(key),
      );
    }
    try {
      await pending;
    } catch (err) {
      this.count('DC09_SINK_FAILED');
      log.error(
        { account: f.account, seq: f.seq, err: errorMessage(err) },
        'DC-09 sink failed; not acknowledging',
      );
      return null;
    }
    this.count('ACCEPTED');
    return ack();
  }

  private callSink(msg: PanelMessage): Promise<void> {
    const limit = this.opts.sinkTimeoutMs ?? 15_000;
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`sink did not finish within ${limit} ms`)), limit);
      t.unref?.();
      Promise.resolve()
        .then(() => this.opts.sink(msg))
        .then(
          () => {
            clearTimeout(t);
            resolve();
          },
          (err: unknown) => {
            clearTimeout(t);
            reject(err);
          },
        );
    });
  }

  private prune(now: number): void {
    if (this.done.size < 1024) return;
    // entries are kept in expiry order (a fixed TTL, re-inserted on update), so stop at the first live one
    for (const [k, exp] of this.done) {
      if (exp > now) break;
      this.done.delete(k);
    }
    // Still too many: forget the oldest (Map keeps insertion order).
    for (const k of this.done.keys()) {
      if (this.done.size <= 50_000) break;
      this.done.delete(k);
    }
  }

  private onDatagram(sock: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length > (this.opts.maxFrameBytes ?? 1024)) {
      this.count('DC09_OVERSIZE');
      return;
    }
    const meta: Meta = { transport: 'udp', remote: `${rinfo.address}:${rinfo.port}` };
    void this.process(msg, meta).then((reply) => {
      if (reply && this.udp === sock) sock.send(Buffer.from(reply, 'latin1'), rinfo.port, rinfo.address);
    });
  }

  private onConnection(sock: net.Socket): void {
    this.sockets.add(sock);
    const meta: Meta = { transport: 'tcp', remote: `${sock.remoteAddress}:${sock.remotePort}` };
    const splitter = new FrameSplitter(this.opts.maxFrameBytes ?? 1024);
    let chain: Promise<void> = Promise.resolve();
    let queued = 0;
    let frameTimer: NodeJS.Timeout | undefined;
    const close = (code: string) => {
      this.count(code);
      log.warn({ code, ...meta }, 'DC-09 connection closed');
      sock.destroy();
    };
    sock.setNoDelay(true);
    sock.setTimeout(this.opts.idleTimeoutMs ?? 60_000, () => close('DC09_IDLE_TIMEOUT'));
    sock.on('error', (err) => log.debug({ err: errorMessage(err), ...meta }, 'DC-09 socket error'));
    sock.on('close', () => {
      this.sockets.delete(sock);
      if (frameTimer) clearTimeout(frameTimer);
    });
    sock.on('data', (chunk) => {
      const { frames, junk, oversized, overflow } = splitter.push(chunk);
      for (let i = 0; i < junk; i++) this.count('DC09_MALFORMED');
      for (let i = 0; i < oversized; i++) this.count('DC09_OVERSIZE');
      if (overflow) return close('DC09_OVERSIZE');
      for (const frame of frames) {
        if (++queued > MAX_PENDING_PER_CONN) return close('DC09_FLOOD');
        chain = chain.then(async () => {
          const reply = await this.process(frame, meta);
          queued--;
          if (reply && !sock.destroyed) sock.write(Buffer.from(reply, 'latin1'));
        });
      }
      if (splitter.pending > 0 && !frameTimer) {
        frameTimer = setTimeout(() => close('DC09_FRAME_TIMEOUT'), this.opts.frameTimeoutMs ?? 10_000);
        frameTimer.unref?.();
      } else if (splitter.pending === 0 && frameTimer) {
        clearTimeout(frameTimer);
        frameTimer = undefined;
      }
    });
  }
}

/** Identity of a message for replay detection: account, seq, timestamp, content. */
export function dedupKey(f: Dc09Frame): string {
  return createHash('sha256')
    .update([f.account, f.seq, f.timestamp ?? '', f.id, f.data, ...f.xdata].join('\u0000'))
    .digest('hex')
    .slice(0, 32);
}
