/**
 * A fleet of simulated cameras in one process: N cameras, each with its own
 * name, zone, credentials and HTTP port, sharing one RTSP server and one
 * WS-Discovery responder. `runCameras(argv)` is the command-line entry.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../../lib/errors.js';
import { logger } from '../../lib/logger.js';
import { RtspServer } from '../rtsp/server.js';
import { SimCamera } from './camera.js';
import { DiscoveryResponder } from './discovery.js';

/** The public areas the regulations require cameras in, in the order a fleet uses them. */
export const DEFAULT_ZONES = [
  'entrance',
  'reception_hall',
  'duty_room',
  'corridor',
  'canteen',
  'stairwell',
  'courtyard',
];

export interface FleetCameraSpec {
  name?: string;
  zone?: string;
  username?: string;
  password?: string;
  httpPort?: number;
}

export interface FleetOptions {
  /** Number of cameras (ignored when `cameras` lists them). Default 1. */
  count?: number;
  cameras?: FleetCameraSpec[];
  /** Zones used in turn for cameras without one. Default DEFAULT_ZONES. */
  zones?: string[];
  /** Name prefix for cameras without a name: `cam1`, `cam2`, ... Default `cam`. */
  namePrefix?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** RTSP port. Default 8554; 0 = any free port. */
  rtspPort?: number;
  /** HTTP port of the first camera, the others follow. Default 0 = each a free port. */
  httpBasePort?: number;
  /** WS-Discovery responder; `false` for none. Default port 3702 on `host` (no multicast on loopback). */
  discovery?: false | { host?: string; port?: number; multicast?: boolean };
  username?: string;
  password?: string;
  width?: number;
  height?: number;
  fps?: number;
  bitrateKbps?: number;
  drawText?: boolean;
  ffmpegPath?: string;
  /** Wait until every stream is published before resolving. Default true. */
  waitForStreams?: boolean;
}

export interface Fleet {
  cameras: SimCamera[];
  rtsp: RtspServer;
  discovery: DiscoveryResponder | undefined;
  camera(name: string): SimCamera | undefined;
  /** Stops every camera (and ffmpeg child), the RTSP server and the discovery responder. */
  stop(): Promise<void>;
}

export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  const log = logger('sim:onvif:fleet');
  const host = options.host ?? '127.0.0.1';
  const zones = options.zones && options.zones.length > 0 ? options.zones : DEFAULT_ZONES;
  const specs: FleetCameraSpec[] = options.cameras ?? Array.from({ length: options.count ?? 1 }, () => ({}));
  if (specs.length === 0) throw new ConfigError('a camera fleet needs at least one camera');
  const prefix = options.namePrefix ?? 'cam';

  const rtsp = new RtspServer({ host, port: options.rtspPort ?? 8554 });
  const discovery =
    options.discovery === false
      ? undefined
      : new DiscoveryResponder({
          host: options.discovery?.host ?? host,
          port: options.discovery?.port ?? 3702,
          multicast: options.discovery?.multicast,
        });
  const cameras: SimCamera[] = [];
  const stop = async () => {
    await Promise.allSettled(cameras.map((c) => c.stop()));
    await Promise.allSettled([rtsp.stop(), discovery?.stop()]);
  };

  try {
    await rtsp.start();
    await discovery?.start();
    const names = new Set<string>();
    specs.forEach((spec, i) => {
      const name = spec.name ?? `${prefix}${i + 1}`;
      if (names.has(name)) throw new ConfigError(`duplicate camera name ${name}`);
      names.add(name);
      const password = spec.password ?? options.password;
      if (!password) throw new ConfigError(`camera ${name}: a password is required`);
      const cam = new SimCamera({
        name,
        zone: spec.zone ?? (zones[i % zones.length] as string),
        rtsp,
        host,
        username: spec.username ?? options.username ?? 'admin',
        password,
        httpPort: spec.httpPort ?? (options.httpBasePort ? options.httpBasePort + i : 0),
        width: options.width,
        height: options.height,
        fps: options.fps,
        bitrateKbps: options.bitrateKbps,
        drawText: options.drawText,
        ffmpegPath: options.ffmpegPath,
      });
      cameras.push(cam);
    });
    await Promise.all(cameras.map((c) => c.start()));
    for (const c of cameras) discovery?.add(c.discovery());
    if (options.waitForStreams ?? true) await Promise.all(cameras.map((c) => c.waitForStream(15_000)));
  } catch (err) {
    await stop();
    throw err;
  }
  log.info({ cameras: cameras.length, rtspPort: rtsp.port }, 'camera fleet up');
  return { cameras, rtsp, discovery, camera: (n) => cameras.find((c) => c.name === n), stop };
}

export interface RunCamerasIo {
  out: (line: string) => void;
}

/**
 * Command-line entry: `--count 3 --zones entrance,corridor,canteen --rtsp-port 8554
 * --http-base-port 8080 --user admin --password secret [--host 127.0.0.1]
 * [--discovery-port 3702 | --no-discovery] [--size 640x360] [--fps 15] [--bitrate 2000]
 * [--names a,b,c]`. Prints one line per camera; the caller stops the fleet.
 */
export async function runCameras(
  argv: string[],
  io: RunCamerasIo = { out: (l) => process.stdout.write(`${l}\n`) },
): Promise<Fleet> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      count: { type: 'string' },
      names: { type: 'string' },
      zones: { type: 'string' },
      host: { type: 'string' },
      'rtsp-port': { type: 'string' },
      'http-base-port': { type: 'string' },
      'discovery-port': { type: 'string' },
      'no-discovery': { type: 'boolean' },
      user: { type: 'string' },
      password: { type: 'string' },
      size: { type: 'string' },
      fps: { type: 'string' },
      bitrate: { type: 'string' },
    },
  });
  const int = (name: string, v: string | undefined, min: number, max: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new ConfigError(`--${name} must be an integer in ${min}..${max}`);
    return n;
  };
  const list = (v: string | undefined) =>
    v
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const names = list(values.names);
  const count = int('count', values.count, 1, 64) ?? names?.length ?? 1;
  let width: number | undefined;
  let height: number | undefined;
  if (values.size) {
    const m = /^(\d{2,4})x(\d{2,4})$/.exec(values.size);
    if (!m) throw new ConfigError('--size must look like 640x360');
    [width, height] = [Number(m[1]), Number(m[2])];
  }
  if (!values.password) throw new ConfigError('--password is required');
  const fleet = await startFleet({
    cameras: Array.from({ length: count }, (_, i) => ({ name: names?.[i] })),
    zones: list(values.zones),
    host: values.host,
    rtspPort: int('rtsp-port', values['rtsp-port'], 0, 65535),
    httpBasePort: int('http-base-port', values['http-base-port'], 1, 65535),
    discovery: values['no-discovery']
      ? false
      : { port: int('discovery-port', values['discovery-port'], 0, 65535) },
    username: values.user,
    password: values.password,
    width,
    height,
    fps: int('fps', values.fps, 1, 60),
    bitrateKbps: int('bitrate', values.bitrate, 100, 20_000),
  });
  for (const c of fleet.cameras) {
    io.out(
      `${c.name}\tzone=${c.zone}\tdevice=${c.deviceUrl}\trtsp=${c.streamUrl}\tsnapshot=${c.snapshotUrl}`,
    );
  }
  if (fleet.discovery) io.out(`ws-discovery\tudp://${fleet.discovery.host}:${fleet.discovery.port}`);
  return fleet;
}
