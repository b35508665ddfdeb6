/**
 * `npm run bench:recording` (issue 3):
 *
 * (a) cameras per gateway: ramp simulated 2–4 Mbit/s H.264 RTSP cameras
 *     recorded by the real Recorder until a step no longer holds
 *     (recording-cameras.ts);
 * (b) the gateway's own CPU as a ratio of its ffmpeg processes' CPU over the
 *     same window, at every step;
 * (c) retention sweep rate over a large synthetic index, and the same sweep
 *     with a larger index kept (recording-sweep.ts), against same-run
 *     `unlink` and `DELETE` baselines.
 *
 * Environment (quick defaults, every part bounded):
 *   REC_MODE (gateway: a real `carewatch gateway` process with a central; inprocess: the
 *   Recorder inside this process) REC_MAX (64) REC_STEP (32) REC_SEGMENT_S (5) REC_HOLD_S (15)
 *   REC_BITRATE_KBPS (3000) REC_SIZE (1280x720) REC_FPS (25)
 *   SWEEP_CAMERAS (64) SWEEP_SEGMENT_S (10) SWEEP_EXPIRE_MIN (10: minutes per camera;
 *   1440 = a day) SWEEP_KEPT (1000000,2000000) SWEEP_ROUNDS (3) BENCH_PARTS (cameras,sweep)
 *   REC_GATEWAY_READY_S (90) REC_POLL_MS (inprocess only: what-if list poll interval)
 *   REC_CAMERA_AUTH (0; 1: gateway mode, stream URLs with credentials, read through ffconcat scripts)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ffmpegPath } from '../gateway/recorder/ffmpeg-args.js';
import { tempDir } from '../lib/testkit/procs.js';
import { rampCameras, type StepResult } from './recording-cameras.js';
import { rampGateway } from './recording-gateway.js';
import { benchSweep, type SweepRun } from './recording-sweep.js';

const env = (name: string, dflt: number) => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};

const REC_MAX = env('REC_MAX', 64);
const REC_STEP = env('REC_STEP', 32);
const REC_SEGMENT_S = env('REC_SEGMENT_S', 5);
const REC_HOLD_S = env('REC_HOLD_S', 15);
const BITRATE = env('REC_BITRATE_KBPS', 3000);
const FPS = env('REC_FPS', 25);
const SIZE = process.env.REC_SIZE ?? '1280x720';
const SWEEP_CAMERAS = env('SWEEP_CAMERAS', 64);
const SWEEP_SEGMENT_S = env('SWEEP_SEGMENT_S', 10);
const SWEEP_EXPIRE_MIN = env('SWEEP_EXPIRE_MIN', 10);
const SWEEP_ROUNDS = env('SWEEP_ROUNDS', 3);
const SWEEP_KEPT = (process.env.SWEEP_KEPT ?? '1000000,2000000').split(',').map(Number);
const MODE = process.env.REC_MODE ?? 'gateway';
if (MODE !== 'gateway' && MODE !== 'inprocess') throw new Error('REC_MODE must be gateway or inprocess');
const READY_S = env('REC_GATEWAY_READY_S', 90);
const POLL_MS = process.env.REC_POLL_MS ? env('REC_POLL_MS', 500) : undefined;
const CAMERA_AUTH = process.env.REC_CAMERA_AUTH === '1';
const PARTS = new Set((process.env.BENCH_PARTS ?? 'cameras,sweep').split(','));

const log = (line: string) => console.log(line);

/** One pre-encoded H.264 clip (CBR, 1 s GOP): the sources only copy it. */
function encodeClip(dir: string): string {
  if (!/^\d+x\d+$/.test(SIZE)) throw new Error('REC_SIZE must look like 1280x720');
  const clip = join(dir, 'clip.mp4');
  const rate = `${BITRATE}k`;
  execFileSync(
    ffmpegPath(),
    [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'],
      ...['-f', 'lavfi', '-i', `testsrc2=size=${SIZE}:rate=${FPS}`, '-t', '10', '-an'],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p'],
      ...['-g', String(FPS), '-keyint_min', String(FPS), '-sc_threshold', '0'],
      ...['-b:v', rate, '-minrate', rate, '-maxrate', rate, '-bufsize', `${Math.round(BITRATE / 2)}k`],
      ...['-x264-params', 'nal-hrd=cbr:force-cfr=1', clip],
    ],
    { stdio: 'inherit', timeout: 120_000 },
  );
  return clip;
}

function cameraSummary(steps: StepResult[]): string[] {
  const held = steps.filter((s) => s.held);
  const best = held.at(-1);
  const ratio = (s: StepResult) => (100 * s.gatewayCpuMs) / s.ffmpegCpuMs;
  return [
    `largest N that held: ${best ? best.cameras : 'none'} (target ≥ 64: ${best && best.cameras >= 64 ? 'met' : 'NOT met'})`,
    ...(best
      ? [
          `gateway CPU / ffmpeg CPU at N=${best.cameras}: ${ratio(best).toFixed(2)} % (target ≤ 5 %: ${ratio(best) <= 5 ? 'met' : 'NOT met'})`,
          ...marginal(held),
        ]
      : []),
  ];
}

/** What one more camera costs the gateway, against what its ffmpeg costs (first to last held step). */
function marginal(held: StepResult[]): string[] {
  if (held.length < 2) return [];
  const a = held[0]!;
  const b = held.at(-1)!;
  const rate = (ms: number, s: StepResult) => ms / s.windowS; // CPU ms per second
  const gw = (rate(b.gatewayCpuMs, b) - rate(a.gatewayCpuMs, a)) / (b.cameras - a.cameras);
  const ff = (rate(b.ffmpegCpuMs, b) - rate(a.ffmpegCpuMs, a)) / (b.cameras - a.cameras);
  return [
    `marginal cost of one more camera (N=${a.cameras} → ${b.cameras}): gateway ${(gw / 10).toFixed(3)} % of a core, ffmpeg ${(ff / 10).toFixed(3)} %, ratio ${((100 * gw) / ff).toFixed(2)} %`,
  ];
}

function sweepSummary(runs: SweepRun[]): string[] {
  if (runs.length < 2) return [];
  const a = runs[0]!;
  const b = runs.at(-1)!;
  const kept = (r: SweepRun) => r.kept.toLocaleString('en');
  return [
    `expiry time with ${kept(b)} kept / with ${kept(a)} kept (same ${a.expired.toLocaleString('en')} expiring; kept ×${(b.kept / a.kept).toFixed(1)}): ${(b.expiryS / a.expiryS).toFixed(2)}`,
    `  same for the baseline DELETE per row: ${(b.deleteRowS / a.deleteRowS).toFixed(2)}; whole pass: ${(b.passS / a.passS).toFixed(2)}`,
  ];
}

async function main(): Promise<void> {
  const dir = tempDir('cw-bench-rec-');
  const started = Date.now();
  const out: string[] = [];
  try {
    if (PARTS.has('cameras')) {
      log(
        `(a)+(b) cameras per gateway (${MODE}): ${SIZE} ${FPS} fps ${BITRATE} kbit/s, ${REC_SEGMENT_S} s segments, ${REC_HOLD_S} s window per step${CAMERA_AUTH ? ', URLs with credentials (ffconcat scripts)' : ''}`,
      );
      // Children (gateway, central, sources) log warnings only: stalls and exits are what the ramp reads.
      process.env.CAREWATCH_LOG_LEVEL ??= 'warn';
      mkdirSync(join(dir.path, 'cameras'));
      const clip = encodeClip(dir.path);
      const ramp = MODE === 'gateway' ? rampGateway : rampCameras;
      const steps = await ramp({
        dir: join(dir.path, 'cameras'),
        clip,
        max: REC_MAX,
        step: REC_STEP,
        segmentS: REC_SEGMENT_S,
        holdS: REC_HOLD_S,
        gatewayReadyS: READY_S,
        pollMs: POLL_MS,
        cameraAuth: CAMERA_AUTH,
        log,
      });
      out.push(...cameraSummary(steps));
    }
    if (PARTS.has('sweep')) {
      const perCam = Math.round((SWEEP_EXPIRE_MIN * 60) / SWEEP_SEGMENT_S);
      log(
        `(c) retention sweep: ${SWEEP_CAMERAS} cameras × ${perCam} expiring ${SWEEP_SEGMENT_S} s segments (${SWEEP_EXPIRE_MIN} min each, empty files), kept ${SWEEP_KEPT.join(' / ')} rows (no files)`,
      );
      const runs = await benchSweep({
        dir: join(dir.path, 'sweep'),
        cameras: SWEEP_CAMERAS,
        segmentS: SWEEP_SEGMENT_S,
        expirePerCamera: perCam,
        kept: SWEEP_KEPT,
        bitrateKbps: BITRATE,
        rounds: SWEEP_ROUNDS,
        log,
      });
      out.push(...sweepSummary(runs));
    }
    log(out.join('\n'));
    log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } catch (err) {
    console.error(err);
    process.exitCode = 1;
  } finally {
    try {
      dir.cleanup();
    } catch (err) {
      console.error(`cleanup of ${dir.path} failed: ${String(err)}`);
    }
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
