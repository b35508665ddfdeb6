/**
 * Cameras per gateway: ramps N simulated RTSP cameras recorded by the real
 * `Recorder` (one ffmpeg per camera, segments indexed in an SQLite file with
 * the gateway's `synchronous=FULL`), `step` cameras at a time. Each step waits
 * for every new camera's first segment, then watches all N cameras for a
 * bounded window: every camera must index segments on time (no interval
 * between two indexed segments above 1.5 × the segment length + 1 s), of the
 * right length (± 1 s), with no stall, exit, offline or error event. Over the
 * same window it reads the CPU of this process (the gateway side of
 * recording: list tailing, stat, rename, index inserts) and of every recorder
 * ffmpeg (/proc/<pid>/stat), and of the sources for reference.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { RecorderEvent } from '../gateway/recorder/events.js';
import { Recorder } from '../gateway/recorder/recorder.js';
import { SegmentIndex } from '../gateway/recorder/segment-index.js';
import { openDatabase } from '../storage/sqlite/open.js';
import { busyShare, machineTimes, procRssBytes, snapshot, usedBetween } from './proc-cpu.js';

export interface RampOptions {
  dir: string;
  clip: string;
  max: number;
  step: number;
  segmentS: number;
  holdS: number;
  log: (line: string) => void;
}

export interface StepResult {
  cameras: number;
  held: boolean;
  reasons: string[];
  windowS: number;
  segments: number;
  gatewayCpuMs: number;
  ffmpegCpuMs: number;
  sourcesCpuMs: number;
  machineBusy: number;
  mbitPerStream: number;
  ffmpegRssMiB: number;
  maxIntervalS: number;
}

interface Sources {
  proc: ChildProcess;
  port: number;
  ffmpegPid: number;
}

interface CamLog {
  indexedAt: number[];
  durations: Array<{ at: number; ms: number; bytes: number }>;
}

const BAD: ReadonlySet<RecorderEvent['type']> = new Set([
  'recording_stalled',
  'recording_exited',
  'camera_offline',
  'recorder_error',
]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startSources(clip: string, count: number, prefix: string): Promise<Sources> {
  const script = fileURLToPath(new URL('./recording-sources.js', import.meta.url));
  const proc = spawn(process.execPath, [script, clip, String(count), prefix], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, CAREWATCH_LOG_LEVEL: process.env.CAREWATCH_LOG_LEVEL ?? 'warn' },
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const lines = createInterface({ input: proc.stdout! });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`sources (${count}) not ready in 40 s: ${stderr}`));
    }, 40_000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sources exited (${code}): ${stderr}`));
    });
    lines.on('line', (line) => {
      if (!line.startsWith('READY ')) return;
      clearTimeout(timer);
      const info = JSON.parse(line.slice(6)) as { port: number; ffmpegPid: number };
      resolve({ proc, ...info });
    });
  });
}

async function stopSources(s: Sources): Promise<void> {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => s.proc.once('exit', () => r()));
  s.proc.kill('SIGTERM');
  const t = setTimeout(() => s.proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

export async function rampCameras(o: RampOptions): Promise<StepResult[]> {
  const db = openDatabase(join(o.dir, 'gateway.db'), { synchronous: 'FULL' });
  const index = new SegmentIndex(db);
  const logs = new Map<string, CamLog>();
  const bad: Array<{ at: number; type: string; cameraId: string }> = [];
  const onEvent = (e: RecorderEvent) => {
    if (e.type === 'segment_indexed') {
      const l = logs.get(e.cameraId);
      const now = Date.now();
      l?.indexedAt.push(now);
      l?.durations.push({ at: now, ms: e.segment.endMs - e.segment.startMs, bytes: e.segment.bytes });
    } else if (BAD.has(e.type)) {
      bad.push({ at: Date.now(), type: e.type, cameraId: e.cameraId });
    }
  };
  const recorders: Recorder[] = [];
  const sources: Sources[] = [];
  const results: StepResult[] = [];
  const segMs = o.segmentS * 1000;
  try {
    for (let n = 0; n < o.max; ) {
      const add = Math.min(o.step, o.max - n);
      const batch = recorders.length;
      const src = await startSources(o.clip, add, `b${batch}c`);
      sources.push(src);
      const cams = Array.from({ length: add }, (_, i) => ({
        cameraId: `cam-${n + i}`,
        inputUrl: `rtsp://127.0.0.1:${src.port}/b${batch}c${i}`,
        transport: 'tcp' as const,
        segmentSeconds: o.segmentS,
      }));
      for (const c of cams) logs.set(c.cameraId, { indexedAt: [], durations: [] });
      const rec = new Recorder({
        rootDir: join(o.dir, 'rec'),
        cameras: cams,
        index,
        onEvent,
        backoff: { initialMs: 500, maxMs: 5000 },
        stopTimeoutMs: 3000,
      });
      recorders.push(rec);
      await rec.start();
      n += add;
      const firstBy = Date.now() + 3 * segMs + 20_000;
      while (Date.now() < firstBy && cams.some((c) => !logs.get(c.cameraId)!.indexedAt.length))
        await sleep(200);
      const silent = cams.filter((c) => !logs.get(c.cameraId)!.indexedAt.length).length;
      const step = await measureWindow(o, n, recorders, sources, logs, bad, segMs);
      if (silent) step.reasons.unshift(`${silent} new cameras produced no first segment in time`);
      step.held = step.reasons.length === 0;
      results.push(step);
      o.log(formatStep(step));
      if (!step.held) break;
    }
  } finally {
    await Promise.all(recorders.map((r) => r.stop()));
    await Promise.all(sources.map(stopSources));
    db.close();
  }
  return results;
}

async function measureWindow(
  o: RampOptions,
  n: number,
  recorders: Recorder[],
  sources: Sources[],
  logs: Map<string, CamLog>,
  bad: Array<{ at: number; type: string; cameraId: string }>,
  segMs: number,
): Promise<StepResult> {
  const ffPids = () => recorders.flatMap((r) => r.status().flatMap((s) => (s.pid ? [s.pid] : [])));
  const srcPids = sources.flatMap((s) => [s.proc.pid!, s.ffmpegPid]);
  const pids0 = ffPids();
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  const ff0 = snapshot(pids0);
  const src0 = snapshot(srcPids);
  const m0 = machineTimes();
  await sleep(o.holdS * 1000);
  const m1 = machineTimes();
  const src1 = snapshot(srcPids);
  const ff1 = snapshot(pids0);
  const cpu = process.cpuUsage(cpu0);
  const t1 = Date.now();
  const rss = pids0.map(procRssBytes).filter((x): x is number => x !== undefined);

  const reasons: string[] = [];
  const ff = usedBetween(ff0, ff1);
  if (pids0.length < n) reasons.push(`${n - pids0.length} cameras had no ffmpeg running`);
  if (ff.missing) reasons.push(`${ff.missing} ffmpeg processes exited during the window`);
  const badIn = bad.filter((b) => b.at >= t0 && b.at <= t1);
  for (const type of new Set(badIn.map((b) => b.type))) {
    const cams = new Set(badIn.filter((b) => b.type === type).map((b) => b.cameraId));
    reasons.push(`${type} on ${cams.size} cameras`);
  }
  let late = 0;
  let wrongLength = 0;
  let maxInterval = 0;
  let segments = 0;
  let bytes = 0;
  let mediaMs = 0;
  const allowedMs = 1.5 * segMs + 1000;
  for (let i = 0; i < n; i++) {
    const l = logs.get(`cam-${i}`)!;
    const before = l.indexedAt.filter((t) => t < t0).at(-1) ?? t0;
    const inside = l.indexedAt.filter((t) => t >= t0 && t <= t1);
    const marks = [before, ...inside, t1];
    let worst = 0;
    for (let k = 1; k < marks.length; k++) worst = Math.max(worst, marks[k]! - marks[k - 1]!);
    maxInterval = Math.max(maxInterval, worst);
    if (worst > allowedMs) late++;
    for (const d of l.durations.filter((x) => x.at >= t0 && x.at <= t1)) {
      segments++;
      bytes += d.bytes;
      mediaMs += d.ms;
      if (Math.abs(d.ms - segMs) > 1000) wrongLength++;
    }
  }
  if (late) reasons.push(`${late} cameras late (max interval ${(maxInterval / 1000).toFixed(1)} s)`);
  if (wrongLength) reasons.push(`${wrongLength} segments of the wrong length`);
  return {
    cameras: n,
    held: false,
    reasons,
    windowS: (t1 - t0) / 1000,
    segments,
    gatewayCpuMs: (cpu.user + cpu.system) / 1000,
    ffmpegCpuMs: ff.ms,
    sourcesCpuMs: usedBetween(src0, src1).ms,
    machineBusy: busyShare(m0, m1),
    mbitPerStream: mediaMs ? (bytes * 8) / (mediaMs / 1000) / 1e6 : 0,
    ffmpegRssMiB: rss.length ? rss.reduce((s, x) => s + x, 0) / rss.length / 2 ** 20 : 0,
    maxIntervalS: maxInterval / 1000,
  };
}

export function formatStep(s: StepResult): string {
  const w = s.windowS * 1000;
  const pct = (ms: number) => `${((100 * ms) / w).toFixed(1)} %`;
  return [
    `  N=${s.cameras}: ${s.held ? 'held' : `NOT held (${s.reasons.join('; ')})`}`,
    `segments ${s.segments} in ${s.windowS.toFixed(1)} s, max interval ${s.maxIntervalS.toFixed(1)} s`,
    `${s.mbitPerStream.toFixed(2)} Mbit/s per stream`,
    `ffmpeg ${pct(s.ffmpegCpuMs)} of a core (${pct(s.ffmpegCpuMs / s.cameras)} per stream, ${s.ffmpegRssMiB.toFixed(0)} MiB RSS each)`,
    `gateway ${pct(s.gatewayCpuMs)} = ${((100 * s.gatewayCpuMs) / s.ffmpegCpuMs).toFixed(2)} % of ffmpeg`,
    `sources ${pct(s.sourcesCpuMs)}`,
    `machine busy ${(100 * s.machineBusy).toFixed(0)} %`,
  ].join(', ');
}
