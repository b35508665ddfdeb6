import net from 'node:net';
import { type Clock, systemClock } from '../../../lib/clock.js';
import { CarewatchError, errorMessage } from '../../../lib/errors.js';
import { logger } from '../../../lib/logger.js';
import { StateTracker, toEvents } from './events.js';
import {
  Command,
  type DeframeResult,
  Deframer,
  encodeFrame,
  type Gb26875Frame,
  type Gb26875Header,
} from './frame.js';
import { postCheckMinutes } from './objects-control.js';
import { type AppData, DataType, decodeAppData, encodeAppData } from './payload.js';
import { PostCheckRegistry, type PostCheckResult } from './post-check.js';
import type { Gb26875DeviceInfo, Gb26875Meta, Gb26875ReceiverOptions } from './receiver-options.js';
import { DEFAULT_TZ_OFFSET_MIN, epochToTime, timeKey, timeToEpoch } from './time.js';

export type { Gb26875DeviceInfo, Gb26875Meta, Gb26875ReceiverOptions };

const log = logger('gateway:gb26875');

interface Conn {
  socket: net.Socket;
  remote: string;
  deframer: Deframer;
  devices: Set<number>;
  chain: Promise<void>;
  queued: number;
  idle?: { cancel(): void };
  frameTimer?: { cancel(): void };
}

const MAX_DEDUP_ENTRIES = 100_000;

/** Codes answered with a deny when the header could be read. */
const DENY_CODES = new Set(['GB26875_BAD_CHECKSUM', 'GB26875_BAD_LENGTH', 'GB26875_BAD_TAIL']);

/**
 * GB/T 26875.3-2011 receiver: a TCP server for user information
 * transmission devices. A send-data frame is confirmed only after the sink
 * has resolved, so a confirm means "durably taken over"; when the sink
 * fails nothing is sent and the device retransmits. Retransmissions of a
 * confirmed frame are confirmed again without a second delivery.
 */
export class Gb26875Receiver {
  private server: net.Server | undefined;
  private readonly conns = new Set<Conn>();
  private readonly routes = new Map<number, Conn>();
  private readonly seen = new Map<number, Gb26875DeviceInfo>();
  private readonly done = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<boolean>>();
  private readonly counters: Record<string, number> = {};
  private tracker: StateTracker | undefined;
  private postChecks: PostCheckRegistry | undefined;
  private serial = 0;
  private boundPort: number | undefined;

  constructor(private readonly opts: Gb26875ReceiverOptions) {}

  private get clock(): Clock {
    return this.opts.clock ?? systemClock;
  }

  async start(): Promise<void> {
    if (this.server) return;
    this.tracker = new StateTracker();
    this.postChecks = new PostCheckRegistry(this.clock);
    const host = this.opts.host ?? '0.0.0.0';
    const server = net.createServer((s) => this.onConnection(s));
    server.maxConnections = this.opts.maxConnections ?? 256;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => log.error({ err: errorMessage(err) }, 'GB26875 server error'));
    this.server = server;
    this.boundPort = (server.address() as net.AddressInfo).port;
    log.info({ host, port: this.boundPort }, 'GB26875 receiver listening');
  }

  async stop(): Promise<void> {
    this.postChecks?.cancelAll();
    for (const c of this.conns) c.socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
    this.boundPort = undefined;
  }

  /** Bound TCP port (after start). */
  get port(): number | undefined {
    return this.boundPort;
  }

  stats(): { counters: Record<string, number>; connections: number; devices: Gb26875DeviceInfo[] } {
    return { counters: { ...this.counters }, connections: this.conns.size, devices: [...this.seen.values()] };
  }

  /**
   * Sends a post check (type 91, control command) to a connected device and
   * resolves with the operator's answer, 'missed' after `timeoutS`,
   * 'denied' when the device refuses it, or 'offline' when not connected.
   * The frame carries the timeout in whole minutes (at least 1).
   */
  async sendPostCheck(device: number, opts: { timeoutS: number }): Promise<PostCheckResult> {
    const conn = this.routes.get(device);
    if (!conn || !this.postChecks || conn.socket.destroyed)
      return { outcome: 'offline', device, confirmed: false };
    const serial = this.nextSerial();
    const result = this.postChecks.open(device, serial, opts.timeoutS * 1000);
    const data = encodeAppData([{ type: DataType.postCheck, timeoutMin: postCheckMinutes(opts.timeoutS) }]);
    this.write(conn, this.frame(Command.control, serial, device, data));
    this.count('post_checks_sent');
    const r = await result;
    this.count(`post_check_${r.outcome}`);
    return r;
  }

  private count(key: string): void {
    this.counters[key] = (this.counters[key] ?? 0) + 1;
  }

  private nextSerial(): number {
    this.serial = (this.serial + 1) & 0xffff;
    return this.serial;
  }

  private frame(
    command: number,
    serial: number,
    destination: number,
    data?: Buffer,
    version?: Gb26875Header['version'],
  ) {
    return encodeFrame(
      {
        serial,
        ...(version ? { version } : {}),
        time: epochToTime(this.clock.now(), this.opts.tzOffsetMinutes ?? DEFAULT_TZ_OFFSET_MIN),
        source: this.opts.centreAddress ?? 0,
        destination,
        command,
        ...(data ? { data } : {}),
      },
      { checksumSpan: this.opts.checksumSpan ?? 'header+data' },
    );
  }

  private write(conn: Conn, buf: Buffer): void {
    if (!conn.socket.destroyed && conn.socket.writable) conn.socket.write(buf);
  }

  private reply(conn: Conn, command: number, to: Gb26875Header): void {
    this.write(conn, this.frame(command, to.serial, to.source, undefined, to.version));
    this.count(command === Command.confirm ? 'confirms_sent' : 'denies_sent');
  }

  private onConnection(socket: net.Socket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const conn: Conn = {
      socket,
      remote,
      deframer: new Deframer({ checksumSpan: this.opts.checksumSpan ?? 'header+data' }),
      devices: new Set(),
      chain: Promise.resolve(),
      queued: 0,
    };
    this.conns.add(conn);
    this.count('connections');
    socket.setNoDelay(true);
    this.armIdle(conn);
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('error', (err) => log.debug({ remote, err: errorMessage(err) }, 'GB26875 connection error'));
    socket.on('close', () => this.onClose(conn));
  }

  private onClose(conn: Conn): void {
    conn.idle?.cancel();
    conn.frameTimer?.cancel();
    this.conns.delete(conn);
    for (const d of conn.devices) {
      if (this.routes.get(d) !== conn) continue;
      this.routes.delete(d);
      const info = this.seen.get(d);
      if (info) info.connected = false;
      this.opts.onDevice?.(d, 'offline', conn.remote);
    }
  }

  private armIdle(conn: Conn): void {
    conn.idle?.cancel();
    conn.idle = this.clock.setTimeout(() => {
      this.count('GB26875_IDLE_TIMEOUT');
      log.info({ remote: conn.remote }, 'GB26875 connection idle, closing');
      conn.socket.destroy();
    }, this.opts.idleTimeoutMs ?? 300_000);
  }

  private onData(conn: Conn, chunk: Buffer): void {
    this.armIdle(conn);
    this.enqueue(conn, conn.deframer.push(chunk));
    if (conn.deframer.pending === 0) {
      conn.frameTimer?.cancel();
      conn.frameTimer = undefined;
    } else if (!conn.frameTimer) {
      conn.frameTimer = this.clock.setTimeout(() => {
        conn.frameTimer = undefined;
        if (conn.deframer.pending === 0) return;
        log.info(
          { remote: conn.remote, held: conn.deframer.pending },
          'GB26875 frame incomplete in time, closing',
        );
        this.enqueue(conn, conn.deframer.flush());
        conn.socket.destroy();
      }, this.opts.frameTimeoutMs ?? 10_000);
    }
  }

  private enqueue(conn: Conn, results: DeframeResult[]): void {
    for (const r of results) {
      if (conn.queued >= (this.opts.maxQueuedFrames ?? 64)) {
        this.count('GB26875_OVERLOAD');
        continue;
      }
      conn.queued++;
      conn.chain = conn.chain
        .then(() => this.handle(conn, r))
        .catch((err) => {
          this.count('GB26875_INTERNAL');
          log.error({ remote: conn.remote, err: errorMessage(err) }, 'GB26875 frame handling failed');
        })
        .finally(() => {
          conn.queued--;
        });
    }
  }

  private async handle(conn: Conn, r: DeframeResult): Promise<void> {
    if (!r.ok) {
      this.count(r.error.code);
      log.debug({ remote: conn.remote, code: r.error.code }, r.error.message);
      if (r.header && DENY_CODES.has(r.error.code) && (this.opts.denyBadFrames ?? true)) {
        this.reply(conn, Command.deny, r.header);
      }
      return;
    }
    const f = r.frame;
    this.count('frames');
    this.noteDevice(conn, f);
    switch (f.command) {
      case Command.sendData:
        return this.onSendData(conn, f);
      case Command.confirm:
        if (!this.postChecks?.confirmed(f.source, f.serial)) this.count('confirms_unmatched');
        return;
      case Command.deny:
        if (!this.postChecks?.denied(f.source, f.serial)) this.count('denies_unmatched');
        return;
      case Command.reply:
        this.count('replies_ignored');
        return;
      default:
        this.count('GB26875_BAD_COMMAND');
        if (this.opts.denyBadFrames ?? true) this.reply(conn, Command.deny, f);
    }
  }

  private noteDevice(conn: Conn, f: Gb26875Frame): void {
    const now = this.clock.now();
    const deviceTime = timeToEpoch(f.time, this.opts.tzOffsetMinutes ?? DEFAULT_TZ_OFFSET_MIN);
    const before = this.routes.get(f.source);
    conn.devices.add(f.source);
    this.routes.set(f.source, conn);
    this.seen.set(f.source, {
      device: f.source,
      remote: conn.remote,
      connected: true,
      lastSeen: now,
      ...(deviceTime !== null ? { clockSkewMs: deviceTime - now } : {}),
    });
    if (before !== conn) this.opts.onDevice?.(f.source, 'online', conn.remote);
  }

  private async onSendData(conn: Conn, f: Gb26875Frame): Promise<void> {
    let app: AppData;
    try {
      app = decodeAppData(f.data);
    } catch (err) {
      const code = err instanceof CarewatchError ? err.code : 'GB26875_BAD_PAYLOAD';
      this.count(code);
      log.debug({ remote: conn.remote, code }, errorMessage(err));
      if (this.opts.denyBadFrames ?? true) this.reply(conn, Command.deny, f);
      return;
    }
    if (!app.known) this.count('GB26875_UNKNOWN_TYPE');
    const dedupKey = `${f.source}:${f.serial}:${timeKey(f.time)}`;
    this.expireDone();
    if ((this.done.get(dedupKey) ?? 0) > this.clock.now()) {
      this.count('duplicates');
      this.reply(conn, Command.confirm, f);
      return;
    }
    let job = this.inflight.get(dedupKey);
    if (job) this.count('duplicates');
    else {
      job = this.deliver(conn, f, app, dedupKey).finally(() => this.inflight.delete(dedupKey));
      this.inflight.set(dedupKey, job);
    }
    if (await job) this.reply(conn, Command.confirm, f);
  }

  /** Runs the sink; true when the frame may be confirmed. */
  private async deliver(conn: Conn, f: Gb26875Frame, app: AppData, dedupKey: string): Promise<boolean> {
    const now = this.clock.now();
    const tz = this.opts.tzOffsetMinutes ?? DEFAULT_TZ_OFFSET_MIN;
    const events = toEvents(app, {
      device: f.source,
      fallbackAt: timeToEpoch(f.time, tz) ?? now,
      tzOffsetMinutes: tz,
      honourTestBit: this.opts.honourTestBit ?? false,
    });
    const answer = events.find((e) => e.kind === 'post_check_reply');
    if (answer) this.postChecks?.answered(f.source, answer.operator);
    const tracker = this.tracker as StateTracker;
    const fresh = this.opts.emitUnchanged ? events : tracker.filter(events);
    if (fresh.length > 0 || this.opts.sinkEmpty) {
      const meta: Gb26875Meta = {
        device: f.source,
        serial: f.serial,
        version: f.version,
        frameTime: f.time,
        dataType: app.type,
        objects: app.objects,
        receivedAt: now,
        remote: conn.remote,
        dedupKey,
      };
      try {
        await this.withTimeout(this.opts.sink(fresh, meta));
      } catch (err) {
        this.count('GB26875_SINK_FAILED');
        log.warn(
          { remote: conn.remote, device: f.source, err: errorMessage(err) },
          'GB26875 sink failed, not confirming',
        );
        return false;
      }
      this.count('delivered');
    }
    tracker.commit(fresh);
    this.done.set(dedupKey, this.clock.now() + (this.opts.dedupTtlMs ?? 600_000));
    return true;
  }

  private withTimeout(p: Promise<void>): Promise<void> {
    const ms = this.opts.sinkTimeoutMs ?? 15_000;
    return new Promise<void>((resolve, reject) => {
      const t = this.clock.setTimeout(
        () => reject(new CarewatchError('GB26875_SINK_TIMEOUT', `sink did not finish within ${ms} ms`)),
        ms,
      );
      p.then(
        () => {
          t.cancel();
          resolve();
        },
        (err) => {
          t.cancel();
          reject(err);
        },
      );
    });
  }

  /** Drops expired dedup entries (insertion order is expiry order) and caps the map. */
  private expireDone(): void {
    if (this.done.size < 1024) return;
    const now = this.clock.now();
    for (const [k, until] of this.done) {
      if (until > now && this.done.size <= MAX_DEDUP_ENTRIES) break;
      this.done.delete(k);
    }
  }
}
