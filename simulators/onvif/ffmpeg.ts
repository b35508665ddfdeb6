/**
 * ffmpeg children of the camera simulator: the live publisher and one-frame
 * snapshot grabs. Every child is tracked so none outlives this process: it is
 * started under `setpriv --pdeathsig SIGKILL` when available (dies with us even
 * on a crash) and killed on `process.exit` otherwise.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { CarewatchError } from '../../lib/errors.js';

const run = promisify(execFile);

const SETPRIV = '/usr/bin/setpriv';
const FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
];

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

/** Number of ffmpeg children of this module still running (for leak checks in tests). */
export function liveFfmpegCount(): number {
  return live.size;
}

/** Spawns ffmpeg (or ffprobe) so that it cannot be orphaned. */
export function spawnTracked(bin: string, args: string[], stdio: 'pipe' | 'ignore' = 'pipe'): ChildProcess {
  installExitHook();
  const useSetpriv = process.platform === 'linux' && existsSync(SETPRIV);
  const child = useSetpriv
    ? spawn(SETPRIV, ['--pdeathsig', 'SIGKILL', '--', bin, ...args], { stdio: ['ignore', stdio, 'pipe'] })
    : spawn(bin, args, { stdio: ['ignore', stdio, 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the child has exited. */
export function stopChild(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

let drawtextCache: Promise<boolean> | undefined;

/** Whether this ffmpeg build has the drawtext filter (libfreetype). */
export function hasDrawtext(ffmpeg = 'ffmpeg'): Promise<boolean> {
  drawtextCache ??= run(ffmpeg, ['-hide_banner', '-filters'], { timeout: 10_000 })
    .then(({ stdout }) => /\bdrawtext\b/.test(stdout))
    .catch(() => false);
  return drawtextCache;
}

export interface VideoSpec {
  width: number;
  height: number;
  fps: number;
}

/**
 * The test source with the camera name and the local time burnt in.
 * `labelFile` holds the drawtext text (a file avoids filtergraph escaping).
 */
export function sourceArgs(video: VideoSpec, labelFile: string | undefined, realtime: boolean): string[] {
  const args = realtime ? ['-re'] : [];
  args.push('-f', 'lavfi', '-i', `testsrc2=size=${video.width}x${video.height}:rate=${video.fps}`);
  if (labelFile) {
    const font = FONT_CANDIDATES.find((f) => existsSync(f));
    const size = Math.max(12, Math.round(video.height / 18));
    const parts = [
      ...(font ? [`fontfile=${font}`] : []),
      `textfile=${labelFile}`,
      'x=10',
      'y=10',
      `fontsize=${size}`,
      'fontcolor=white',
      'box=1',
      'boxcolor=black@0.6',
      'boxborderw=4',
    ];
    args.push('-vf', `drawtext=${parts.join(':')}`);
  }
  return args;
}

/** drawtext text: name and local clock. `%` and `\` in the name are escaped for expansion. */
export function labelText(name: string, zone: string): string {
  const esc = (s: string) => s.replace(/[\\%]/g, (c) => `\\${c}`).replace(/[\r\n]/g, ' ');
  return `${esc(name)} (${esc(zone)})  %{localtime:%F %T}`;
}

export interface PublishSpec extends VideoSpec {
  bitrateKbps: number;
  url: string;
}

/** ffmpeg arguments after the source: H.264 CBR, 1 s GOP, RTSP over TCP. */
export function publishArgs(spec: PublishSpec): string[] {
  const rate = `${spec.bitrateKbps}k`;
  return [
    '-an',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(spec.fps),
    '-keyint_min',
    String(spec.fps),
    '-sc_threshold',
    '0',
    '-b:v',
    rate,
    '-minrate',
    rate,
    '-maxrate',
    rate,
    '-bufsize',
    `${Math.max(1, Math.round(spec.bitrateKbps / 2))}k`,
    // Constant bit rate with filler data, so the stream really has the configured rate.
    '-x264-params',
    'nal-hrd=cbr:force-cfr=1',
    // SPS/PPS before every keyframe too, for readers that ignore the SDP.
    '-bsf:v',
    'dump_extra=freq=keyframe',
    '-f',
    'rtsp',
    '-rtsp_transport',
    'tcp',
    spec.url,
  ];
}

/** One JPEG frame of the same picture the stream shows. */
export async function grabJpeg(
  ffmpeg: string,
  video: VideoSpec,
  labelFile: string | undefined,
  timeoutMs = 10_000,
): Promise<Buffer> {
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    ...sourceArgs(video, labelFile, false),
    '-frames:v',
    '1',
    '-c:v',
    'mjpeg',
    '-pix_fmt',
    'yuvj420p',
    '-q:v',
    '5',
    '-f',
    'image2pipe',
    'pipe:1',
  ];
  const child = spawnTracked(ffmpeg, args);
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => chunks.push(d));
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(-1));
    child.once('close', (c) => resolve(c));
  });
  clearTimeout(timer);
  const jpeg = Buffer.concat(chunks);
  if (code !== 0 || jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) {
    throw new CarewatchError(
      'SIM_SNAPSHOT_FAILED',
      `ffmpeg snapshot failed (exit ${code}): ${stderr.trim()}`,
    );
  }
  return jpeg;
}
