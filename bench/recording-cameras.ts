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
import { join } from 'node:path';
import type { RecorderEvent } from '../gateway/recorder/events.js';
import { Recorder } from '../gateway/recorder/recorder.js';
import { SegmentIndex } from '../gateway/recorder/segment-index.js';
import { openDatabase } from '../storage/sqlite/open.js';
import { busyShare, machineTimes, procRssBytes, snapshot, usedBetween } from './proc-cpu.js';
import { type BadEvent, type CamLog, judgeWindow } from './recording-checks.js';
import { type Sources, startSources, stopSources } from './recording-sources-client.js';

const BAD: ReadonlySet<RecorderEvent['type']> = new Set([
  'recording_stalled',
  'recording_exited',
  'camera_offline',
  'recorder_error',
]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RampOptions {
  dir: string;
  clip: string;
  max: number;
  step: number;
  segmentS: number;
  holdS: number;
  /** Gateway mode: bound on the gateway's start with N cameras (default 90 s). */
  gatewayReadyS?: number;
  /** In-process mode only: the recorder's list poll interval (what-if; the gateway uses the default). */
  pollMs?: number;
  /**
   * Gateway mode: stream URLs with a user name and password, so each ffmpeg reads its input
   * through the 0600 ffconcat script (the sources accept any credentials).
   */
  cameraAuth?: boolean;
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

export async function rampCameras(o: RampOptions): Promise<StepResult[]> {
  const db = openDatabase(join(o.dir, 'gateway.db'), { synchronous: 'FULL' });
  const index = new SegmentIndex(db);
  const logs = new Map<string, CamLog>();
  const bad: BadEvent[] = [];
  const onEvent = (e: RecorderEvent) => {
    if (e.type === 'segment_indexed') {
      const l = logs.get(e.cameraId);
      const now = Date.now();
      l?.indexedAt.push(now);
      l?.segments.push({ at: now, ms: e.segment.endMs - e.segment.startMs, bytes: e.segment.bytes });
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
      for (const c of cams) logs.set(c.cameraId, { indexedAt: [], segments: [] });
      const rec = new Recorder({
        rootDir: join(o.dir, 'rec'),
        cameras: cams,
        index,
        onEvent,
        backoff: { initialMs: 500, maxMs: 5000 },
        stopTimeoutMs: 3000,
        // pollMs is a CameraRecorder option the Recorder passes through; not part of RecorderOptions.
        ...(o.pollMs ? ({ pollMs: o.pollMs } as object) : {}),
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
  bad: BadEvent[],
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
  const verdict = judgeWindow(
    Array.from({ length: n }, (_, i) => `cam-${i}`),
    logs,
    bad,
    t0,
    t1,
    segMs,
  );
  reasons.push(...verdict.reasons);
  return {
    cameras: n,
    held: false,
    reasons,
    windowS: (t1 - t0) / 1000,
    segments: verdict.segments,
    gatewayCpuMs: (cpu.user + cpu.system) / 1000,
    ffmpegCpuMs: ff.ms,
    sourcesCpuMs: usedBetween(src0, src1).ms,
    machineBusy: busyShare(m0, m1),
    mbitPerStream: verdict.mbitPerStream,
    ffmpegRssMiB: rss.length ? rss.reduce((s, x) => s + x, 0) / rss.length / 2 ** 20 : 0,
    maxIntervalS: verdict.maxIntervalS,
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
