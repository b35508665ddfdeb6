/**
 * A small RTSP relay for the simulators: publishers (ffmpeg `-f rtsp
 * -rtsp_transport tcp`) ANNOUNCE and RECORD a path, readers DESCRIBE, SETUP and
 * PLAY it over TCP interleaved or UDP. Many paths on one port.
 */
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { CarewatchError, errorMessage } from '../../lib/errors.js';
import { logger } from '../../lib/logger.js';
import { RtspConnection, type ServerContext } from './connection.js';
import { parseSdp } from './sdp.js';
import { type ReaderSession, Stream, type StreamStats, type UdpPair } from './stream.js';

export interface RtspServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8554; 0 picks a free port. */
  port?: number;
  /** Offer UDP transport to readers (a shared even/odd port pair). Default true. */
  udp?: boolean;
  /** Backlog bound per TCP reader; packets above it are dropped. Default 1 MiB. */
  maxReaderBufferBytes?: number;
  /** A reader above the bound for this long is disconnected. Default 5000 ms. */
  slowReaderTimeoutMs?: number;
  /** Advertised session timeout; UDP readers silent for 2× this are dropped. Default 60 s. */
  sessionTimeoutSec?: number;
}

export interface RtspServerEvents {
  publish: [path: string];
  unpublish: [path: string, reason: string];
}

export class RtspServer extends EventEmitter<RtspServerEvents> {
  private readonly log = logger('sim:rtsp');
  private readonly opts: Required<RtspServerOptions>;
  private readonly tcp: net.Server;
  private readonly streams = new Map<string, Stream>();
  private readonly known = new Set<string>();
  private readonly connections = new Set<RtspConnection>();
  private udp: UdpPair | undefined;
  private udpPortPair: [number, number] | undefined;
  private sweep: NodeJS.Timeout | undefined;
  private sdpVersion = Math.floor(Date.now() / 1000);
  private listening = false;

  constructor(options: RtspServerOptions = {}) {
    super();
    this.opts = {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 8554,
      udp: options.udp ?? true,
      maxReaderBufferBytes: options.maxReaderBufferBytes ?? 1024 * 1024,
      slowReaderTimeoutMs: options.slowReaderTimeoutMs ?? 5000,
      sessionTimeoutSec: options.sessionTimeoutSec ?? 60,
    };
    this.tcp = net.createServer((socket) => {
      const conn = new RtspConnection(socket, this.context());
      this.connections.add(conn);
      socket.on('close', () => this.connections.delete(conn));
    });
  }

  get host(): string {
    return this.opts.host;
  }

  get port(): number {
    const addr = this.tcp.address();
    if (!addr || typeof addr === 'string')
      throw new CarewatchError('RTSP_NOT_LISTENING', 'RTSP server is not listening');
    return addr.port;
  }

  /** `rtsp://host:port/<path>` for a path with or without its leading slash. */
  url(path: string): string {
    return `rtsp://${this.opts.host}:${this.port}/${path.replace(/^\/+/, '')}`;
  }

  async start(): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        reject(
          new CarewatchError(
            'RTSP_LISTEN_FAILED',
            `RTSP listen on ${this.opts.host}:${this.opts.port} failed: ${err.message}`,
          ),
        );
      };
      this.tcp.once('error', onError);
      this.tcp.listen(this.opts.port, this.opts.host, () => {
        this.tcp.off('error', onError);
        resolve();
      });
    });
    this.listening = true;
    if (this.opts.udp) {
      try {
        await this.bindUdp();
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'no UDP port pair: readers get TCP only');
      }
    }
    this.sweep = setInterval(() => this.sweepUdpReaders(), 5000);
    this.sweep.unref();
    this.log.info({ host: this.opts.host, port: this.port, udp: this.udpPortPair }, 'RTSP server listening');
  }

  async stop(): Promise<void> {
    if (this.sweep) clearInterval(this.sweep);
    this.sweep = undefined;
    for (const c of [...this.connections]) c.close();
    this.connections.clear();
    if (this.udp) {
      const { rtp, rtcp } = this.udp;
      this.udp = undefined;
      this.udpPortPair = undefined;
      await Promise.all([rtp, rtcp].map((s) => new Promise<void>((r) => s.close(() => r()))));
    }
    if (this.listening) {
      this.listening = false;
      await new Promise<void>((r) => this.tcp.close(() => r()));
    }
  }

  /** Readers of a declared path get 503 (not 404) while it has no publisher. */
  declarePath(path: string): void {
    this.known.add(normalise(path));
  }

  isPublishing(path: string): boolean {
    return this.streams.get(normalise(path))?.recording ?? false;
  }

  stats(): StreamStats[] {
    return [...this.streams.values()].map((s) => s.stats());
  }

  /** Resolves when a publisher is recording on `path`. */
  waitForPublisher(path: string, timeoutMs = 10_000): Promise<void> {
    const p = normalise(path);
    if (this.isPublishing(p)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('publish', on);
        reject(new CarewatchError('RTSP_NO_PUBLISHER', `no publisher on ${p} within ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (published: string) => {
        if (published !== p) return;
        clearTimeout(timer);
        this.off('publish', on);
        resolve();
      };
      this.on('publish', on);
    });
  }

  /** Disconnects the publisher and every reader of `path` (the camera "goes away"). */
  kick(path: string): void {
    const stream = this.streams.get(normalise(path));
    if (!stream) return;
    stream.publisher.destroy();
    this.endStream(stream, 'kicked');
  }

  private context(): ServerContext {
    return {
      log: this.log,
      streams: this.streams,
      sessionTimeoutSec: this.opts.sessionTimeoutSec,
      isKnownPath: (p) => {
        const n = normalise(p).toLowerCase();
        for (const k of this.known)
          if (n === k.toLowerCase() || n.startsWith(`${k.toLowerCase()}/`)) return true;
        return false;
      },
      findStream: (p) => {
        let best: Stream | undefined;
        for (const s of this.streams.values()) {
          const lp = p.toLowerCase();
          const sp = s.path.toLowerCase();
          if ((lp === sp || lp.startsWith(`${sp}/`)) && (!best || s.path.length > best.path.length)) best = s;
        }
        return best;
      },
      createStream: (p, sdpText, publisher) => this.createStream(p, sdpText, publisher),
      endStream: (s, reason) => this.endStream(s, reason),
      onRecord: (s) => this.emit('publish', s.path),
      udpPorts: () => this.udpPortPair,
    };
  }

  private createStream(path: string, sdpText: string, publisher: net.Socket): Stream {
    const p = normalise(path);
    const old = this.streams.get(p);
    if (old) {
      // A new publisher on a busy path replaces the old one (a camera that restarted).
      old.publisher.destroy();
      this.endStream(old, 'replaced by a new publisher');
    }
    const stream = new Stream(
      p,
      parseSdp(sdpText),
      ++this.sdpVersion,
      publisher,
      {
        maxReaderBufferBytes: this.opts.maxReaderBufferBytes,
        slowReaderTimeoutMs: this.opts.slowReaderTimeoutMs,
      },
      this.udp,
      (r: ReaderSession) => {
        this.log.warn({ path: p, session: r.id, dropped: r.dropped }, 'slow reader disconnected');
        r.socket.destroy();
      },
    );
    this.streams.set(p, stream);
    this.known.add(p);
    return stream;
  }

  private endStream(stream: Stream, reason: string): void {
    if (this.streams.get(stream.path) !== stream) return;
    this.streams.delete(stream.path);
    const wasRecording = stream.recording;
    stream.recording = false;
    for (const r of stream.readers) r.socket.end();
    stream.readers.clear();
    this.log.info({ path: stream.path, reason }, 'stream ended');
    if (wasRecording) this.emit('unpublish', stream.path, reason);
  }

  private sweepUdpReaders(): void {
    const limit = Date.now() - 2 * this.opts.sessionTimeoutSec * 1000;
    for (const c of this.connections) {
      if (c.isUdpReader && c.lastRequestAt < limit) {
        this.log.info('UDP reader session timed out');
        c.close();
      }
    }
  }

  private async bindUdp(): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const rtp = dgram.createSocket('udp4');
      const rtpPort = await bind(rtp, 0, this.opts.host).catch(() => -1);
      if (rtpPort < 0 || rtpPort % 2 !== 0 || rtpPort >= 65535) {
        rtp.close();
        continue;
      }
      const rtcp = dgram.createSocket('udp4');
      const rtcpPort = await bind(rtcp, rtpPort + 1, this.opts.host).catch(() => -1);
      if (rtcpPort < 0) {
        rtp.close();
        rtcp.close();
        continue;
      }
      // Readers' RTCP receiver reports and NAT punch packets are read and ignored.
      rtp.on('message', () => {});
      rtcp.on('message', () => {});
      this.udp = { rtp, rtcp };
      this.udpPortPair = [rtpPort, rtcpPort];
      return;
    }
    throw new CarewatchError('RTSP_UDP_BIND_FAILED', 'could not bind an even/odd UDP port pair');
  }
}

function bind(sock: dgram.Socket, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, host, () => {
      sock.off('error', reject);
      resolve(sock.address().port);
    });
  });
}

function normalise(path: string): string {
  const p = `/${path.replace(/^\/+/, '').replace(/\/+$/, '')}`;
  return p;
}
