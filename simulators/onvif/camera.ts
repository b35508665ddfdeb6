/**
 * One simulated ONVIF camera: an HTTP server answering the device, media and
 * event services (SOAP 1.2, WS-UsernameToken), `GET /snapshot.jpg`, and an
 * ffmpeg child publishing a live H.264 stream to an RTSP server. Faults can be
 * injected: malformed SOAP, refused credentials, no stream, camera offline.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CarewatchError, errorMessage } from '../../lib/errors.js';
import { logger } from '../../lib/logger.js';
import type { RtspServer } from '../rtsp/server.js';
import type { Credentials } from './auth.js';
import type { DiscoveryDevice } from './discovery.js';
import { PullPointManager, type SimEventKind } from './events.js';
import { grabJpeg, hasDrawtext, labelText } from './ffmpeg.js';
import { handleSoap, newNonceCache, type SoapFaults } from './handler.js';
import { Publisher } from './publisher.js';
import { type CameraInfo, PATHS, scopesOf } from './services.js';

export interface SimCameraOptions {
  name: string;
  /** Where the camera looks (`entrance`, `reception_hall`, `duty_room`, `corridor`, `canteen`, ...). */
  zone: string;
  /** The RTSP server to publish to, or a base URL such as `rtsp://127.0.0.1:8554`. */
  rtsp: RtspServer | string;
  username?: string;
  password: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port); kept across offline/online. */
  httpPort?: number;
  /** RTSP path; default derived from the name. */
  streamPath?: string;
  width?: number;
  height?: number;
  fps?: number;
  bitrateKbps?: number;
  /** Burn name and clock into the picture; default: when ffmpeg has drawtext. */
  drawText?: boolean;
  manufacturer?: string;
  model?: string;
  firmwareVersion?: string;
  serialNumber?: string;
  /** A snapshot is reused for this long. Default 2000 ms. */
  snapshotCacheMs?: number;
  ffmpegPath?: string;
  /** Start publishing on start(). Default true. */
  stream?: boolean;
}

export interface CameraFaults extends SoapFaults {}

export interface SimCameraEvents {
  online: [];
  offline: [];
}

export class SimCamera extends EventEmitter<SimCameraEvents> {
  readonly name: string;
  readonly zone: string;
  readonly username: string;
  readonly events = new PullPointManager();
  /** Stable WS-Discovery endpoint id (urn:uuid:...) derived from the name. */
  readonly endpoint: string;
  private password: string;
  private readonly log;
  private readonly opts: SimCameraOptions;
  private readonly video: { width: number; height: number; fps: number };
  private readonly server: http.Server;
  private readonly nonces = newNonceCache();
  private readonly faultState: CameraFaults = { malformedSoap: false, rejectAuth: false };
  private port: number;
  private isOnline = false;
  private publisher: Publisher | undefined;
  private streamWanted: boolean;
  private labelDir: string | undefined;
  private labelFile: string | undefined;
  private snapshot: { at: number; jpeg: Buffer } | undefined;
  private snapshotInFlight: Promise<Buffer> | undefined;

  constructor(options: SimCameraOptions) {
    super();
    if (!options.name) throw new CarewatchError('SIM_CAMERA_CONFIG', 'camera name is required');
    this.opts = options;
    this.name = options.name;
    this.zone = options.zone;
    this.username = options.username ?? 'admin';
    this.password = options.password;
    this.port = options.httpPort ?? 0;
    this.streamWanted = options.stream ?? true;
    this.video = { width: options.width ?? 640, height: options.height ?? 360, fps: options.fps ?? 15 };
    this.log = logger('sim:onvif').child({ camera: options.name });
    const h = createHash('sha1').update(`carewatch-sim:${options.name}`).digest('hex');
    this.endpoint = `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.server.keepAliveTimeout = 5000;
  }

  get host(): string {
    return this.opts.host ?? '127.0.0.1';
  }

  get httpPort(): number {
    return this.port;
  }

  get online(): boolean {
    return this.isOnline;
  }

  get deviceUrl(): string {
    return `http://${this.host}:${this.port}${PATHS.device}`;
  }

  get snapshotUrl(): string {
    return `http://${this.host}:${this.port}${PATHS.snapshot}`;
  }

  get streamPath(): string {
    return this.opts.streamPath ?? `/${this.name.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
  }

  /** The RTSP URL readers use (what GetStreamUri returns). */
  get streamUrl(): string {
    const r = this.opts.rtsp;
    const base = typeof r === 'string' ? r.replace(/\/+$/, '') : `rtsp://${r.host}:${r.port}`;
    return `${base}${this.streamPath}`;
  }

  /** Process id of the ffmpeg publisher, while there is one. */
  get publisherPid(): number | undefined {
    return this.publisher?.pid;
  }

  get publisherStderr(): string {
    return this.publisher?.lastStderr ?? '';
  }

  get faults(): Readonly<CameraFaults> {
    return this.faultState;
  }

  info(): CameraInfo {
    const serial = this.opts.serialNumber ?? `SIM-${this.endpoint.slice(9, 17).toUpperCase()}`;
    return {
      name: this.name,
      zone: this.zone,
      manufacturer: this.opts.manufacturer ?? 'Carewatch Simulator',
      model: this.opts.model ?? 'SIM-IPC-H264',
      firmwareVersion: this.opts.firmwareVersion ?? '1.0.0',
      serialNumber: serial,
      hardwareId: 'sim-1',
      httpBase: `http://${this.host}:${this.port}`,
      streamUri: this.streamUrl,
      snapshotUri: this.snapshotUrl,
      ...this.video,
      bitrateKbps: this.opts.bitrateKbps ?? 2000,
    };
  }

  /** What the WS-Discovery responder announces for this camera. */
  discovery(): DiscoveryDevice {
    const info = this.info();
    return {
      endpoint: this.endpoint,
      xaddrs: () => [this.deviceUrl],
      scopes: scopesOf(info),
      active: () => this.isOnline,
    };
  }

  async start(): Promise<void> {
    if (this.isOnline) return;
    await this.listen();
    if (this.streamWanted) await this.startPublisher();
    this.isOnline = true;
    this.log.info({ device: this.deviceUrl, rtsp: this.streamUrl }, 'camera online');
    this.emit('online');
  }

  /** Stops HTTP and the stream, releases every child and temp file. */
  async stop(): Promise<void> {
    await this.goOffline();
    if (this.labelDir) rmSync(this.labelDir, { recursive: true, force: true });
    this.labelDir = undefined;
    this.labelFile = undefined;
  }

  /** Fault: the camera disappears from the network (HTTP closed, stream stopped). */
  async goOffline(): Promise<void> {
    const wasOnline = this.isOnline;
    this.isOnline = false;
    this.events.closeAll();
    await this.publisher?.stop();
    if (this.server.listening) {
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      });
    }
    if (wasOnline) {
      this.log.info('camera offline');
      this.emit('offline');
    }
  }

  /** Back from offline on the same HTTP port (and stream, unless it was stopped). */
  goOnline(): Promise<void> {
    return this.start();
  }

  /** Fault: the encoder stops publishing (ONVIF still answers). */
  async stopStream(): Promise<void> {
    this.streamWanted = false;
    await this.publisher?.stop();
  }

  async startStream(): Promise<void> {
    this.streamWanted = true;
    if (this.isOnline) await this.startPublisher();
  }

  /** Resolves when the stream is being published (only with an RtspServer). */
  async waitForStream(timeoutMs = 10_000): Promise<void> {
    if (typeof this.opts.rtsp !== 'string') await this.opts.rtsp.waitForPublisher(this.streamPath, timeoutMs);
  }

  setFaults(f: Partial<CameraFaults>): void {
    Object.assign(this.faultState, f);
  }

  clearFaults(): void {
    this.faultState.malformedSoap = false;
    this.faultState.rejectAuth = false;
  }

  setPassword(password: string): void {
    this.password = password;
  }

  /** Raises or clears motion; subscribers get a `tns1:VideoSource/MotionAlarm` message. */
  triggerMotion(active = true): void {
    this.trigger('motion', active);
  }

  /** Raises or clears tampering (`tns1:VideoSource/GlobalSceneChange/ImagingService`). */
  triggerTamper(active = true): void {
    this.trigger('tamper', active);
  }

  private trigger(kind: SimEventKind, active: boolean): void {
    this.log.info({ kind, active }, 'event');
    this.events.publish(kind, active);
  }

  private users(): Credentials[] {
    return [{ username: this.username, password: this.password }];
  }

  private async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) =>
        reject(
          new CarewatchError(
            'SIM_CAMERA_LISTEN',
            `camera ${this.name}: HTTP listen on ${this.port} failed: ${err.message}`,
          ),
        );
      this.server.once('error', onError);
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    const addr = this.server.address();
    if (addr && typeof addr !== 'string') this.port = addr.port;
  }

  private async ensureLabel(): Promise<string | undefined> {
    if (this.labelFile) return this.labelFile;
    const wanted = this.opts.drawText ?? (await hasDrawtext(this.opts.ffmpegPath ?? 'ffmpeg'));
    if (!wanted) return undefined;
    this.labelDir = mkdtempSync(join(tmpdir(), 'cw-simcam-'));
    this.labelFile = join(this.labelDir, 'label.txt');
    writeFileSync(this.labelFile, labelText(this.name, this.zone));
    return this.labelFile;
  }

  private async startPublisher(): Promise<void> {
    if (this.publisher?.running) return;
    if (typeof this.opts.rtsp !== 'string') this.opts.rtsp.declarePath(this.streamPath);
    this.publisher ??= new Publisher({
      ffmpeg: this.opts.ffmpegPath ?? 'ffmpeg',
      video: this.video,
      bitrateKbps: this.opts.bitrateKbps ?? 2000,
      url: this.streamUrl,
      labelFile: await this.ensureLabel(),
      log: this.log,
    });
    this.publisher.start();
  }

  private async getSnapshot(): Promise<Buffer> {
    const maxAge = this.opts.snapshotCacheMs ?? 2000;
    if (this.snapshot && Date.now() - this.snapshot.at < maxAge) return this.snapshot.jpeg;
    this.snapshotInFlight ??= (async () => {
      try {
        const jpeg = await grabJpeg(this.opts.ffmpegPath ?? 'ffmpeg', this.video, await this.ensureLabel());
        this.snapshot = { at: Date.now(), jpeg };
        return jpeg;
      } finally {
        this.snapshotInFlight = undefined;
      }
    })();
    return this.snapshotInFlight;
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path === PATHS.snapshot) {
      this.getSnapshot().then(
        (jpeg) => {
          res.writeHead(200, {
            'Content-Type': 'image/jpeg',
            'Content-Length': jpeg.length,
            'Cache-Control': 'no-store',
          });
          res.end(jpeg);
        },
        (err) => {
          this.log.error({ err: errorMessage(err) }, 'snapshot failed');
          res.writeHead(503, { 'Content-Type': 'text/plain' }).end('snapshot unavailable\n');
        },
      );
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { Allow: 'POST' }).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > 1024 * 1024) {
        res.writeHead(413).end();
        req.destroy();
        return;
      }
      chunks.push(d);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      const ctx = {
        info: () => this.info(),
        users: () => this.users(),
        faults: () => this.faultState,
        events: this.events,
        nonces: this.nonces,
      };
      handleSoap(ctx, path, Buffer.concat(chunks).toString('utf8')).then(
        (reply) => {
          this.log.debug({ op: reply.op, status: reply.status }, 'soap');
          res.writeHead(reply.status, { 'Content-Type': 'application/soap+xml; charset=utf-8' });
          res.end(reply.xml);
        },
        (err) => {
          this.log.error({ err: errorMessage(err) }, 'soap handler failed');
          if (!res.headersSent) res.writeHead(500).end();
        },
      );
    });
  }
}
