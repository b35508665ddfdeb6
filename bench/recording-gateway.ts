/**
 * The camera ramp against a real gateway process (`carewatch gateway` with a
 * `cameras:` config, connected to a real central): at each step the gateway
 * is restarted with N cameras (same data directory), the bench watches its
 * SQLite segment index (read-only) and its log for stall/exit events, and
 * reads the CPU of the gateway process and of its ffmpeg children from /proc.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parse, stringify } from 'yaml';
import { cli, type Proc } from '../lib/testkit/procs.js';
import { setupSite } from '../lib/testkit/site.js';
import { busyShare, machineTimes, procCpuMs, procRssBytes, snapshot, usedBetween } from './proc-cpu.js';
import type { RampOptions, StepResult } from './recording-cameras.js';
import { type BadEvent, type CamLog, judgeWindow } from './recording-checks.js';
import { type Sources, startSources, stopSources } from './recording-sources-client.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BAD_MSG: Record<string, string> = {
  'recording stalled': 'recording_stalled',
  'ffmpeg exited; restarting': 'recording_exited',
  'recording started': 'recording_started',
};

/** Direct children of a process (every thread's `children` file). */
export function childPids(pid: number): number[] {
  try {
    const tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return tasks.trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

interface Row {
  id: number;
  cameraId: string;
  startMs: number;
  endMs: number;
  bytes: number;
}

export async function rampGateway(o: RampOptions): Promise<StepResult[]> {
  const site = await setupSite(o.dir, { devices: ['btn-1'] });
  // Started by hand (not startCentral/startGateway) for longer start bounds on a loaded machine,
  // and so that a process that does not come up in time is still killed in `finally`.
  const central = cli([
    'central',
    ...[
      '--data-dir',
      site.centralDir,
      '--mqtt-port',
      String(site.mqttPort),
      '--http-port',
      String(site.httpPort),
    ],
  ]);
  const sources: Sources[] = [];
  const urls: string[] = [];
  const results: StepResult[] = [];
  const logs = new Map<string, CamLog>();
  const segMs = o.segmentS * 1000;
  const base = parse(readFileSync(site.siteYaml, 'utf8')) as Record<string, unknown>;
  const dataDir = join(o.dir, 'gateway');
  let gateway: Proc | undefined;
  let db: Database.Database | undefined;
  try {
    await central.waitFor(/central ready/, 60_000);
    for (let n = 0; n < o.max; ) {
      const add = Math.min(o.step, o.max - n);
      const src = await startSources(o.clip, add, `b${sources.length}c`);
      const auth = o.cameraAuth ? 'bench:bench-camera-secret@' : '';
      for (let i = 0; i < add; i++) urls.push(`rtsp://${auth}127.0.0.1:${src.port}/b${sources.length}c${i}`);
      sources.push(src);
      n += add;
      const ids = urls.map((_, i) => `cam-${i}`);
      for (const id of ids) if (!logs.has(id)) logs.set(id, { indexedAt: [], segments: [] });
      writeFileSync(
        site.siteYaml,
        stringify({
          ...base,
          cameras: {
            recordingsDir: join(o.dir, 'rec'),
            segmentSeconds: o.segmentS,
            devices: urls.map((url, i) => ({ deviceId: ids[i], zone: 'corridor', streamUrl: url })),
          },
        }),
      );
      await gateway?.kill();
      gateway = cli(['gateway', '--config', site.siteYaml], {
        CAREWATCH_GATEWAY_PASSWORD: site.gatewayPassword,
      });
      const readyS = o.gatewayReadyS ?? 90;
      const t = Date.now();
      const ready = await gateway.waitFor(/gateway ready/, readyS * 1000).then(
        () => true,
        () => false,
      );
      if (!ready) {
        const step = notStarted(n, `gateway with ${n} cameras not ready within ${readyS} s`);
        results.push(step);
        o.log(formatGatewayStep(step));
        break;
      }
      o.log(`  gateway with ${n} cameras ready in ${((Date.now() - t) / 1000).toFixed(1)} s`);
      db ??= new Database(join(dataDir, 'gateway.db'), { readonly: true, fileMustExist: true });
      const watch = watcher(db, gateway, logs);
      const startedAt = Date.now();
      const firstBy = startedAt + 3 * segMs + 30_000;
      const fresh = () => ids.filter((id) => !logs.get(id)!.indexedAt.some((t) => t >= startedAt)).length;
      while (Date.now() < firstBy && fresh() > 0) {
        watch.poll();
        await sleep(250);
      }
      const silent = fresh();
      const gwPid = gateway.child.pid!;
      const ffPids = childPids(gwPid);
      const srcPids = sources.flatMap((s) => [s.proc.pid!, s.ffmpegPid]);
      const t0 = Date.now();
      const g0 = procCpuMs(gwPid) ?? 0;
      const ff0 = snapshot(ffPids);
      const src0 = snapshot(srcPids);
      const m0 = machineTimes();
      while (Date.now() < t0 + o.holdS * 1000) {
        watch.poll();
        await sleep(250);
      }
      const m1 = machineTimes();
      const src1 = snapshot(srcPids);
      const ff1 = snapshot(ffPids);
      const g1 = procCpuMs(gwPid) ?? 0;
      const t1 = Date.now();
      watch.poll();
      const rss = ffPids.map(procRssBytes).filter((x): x is number => x !== undefined);
      const v = judgeWindow(ids, logs, watch.bad, t0, t1, segMs);
      const ff = usedBetween(ff0, ff1);
      const reasons = [...v.reasons];
      if (silent) reasons.unshift(`${silent} cameras produced no segment after the gateway restart in time`);
      if (ffPids.length < n) reasons.push(`${ffPids.length} ffmpeg children for ${n} cameras`);
      if (ff.missing) reasons.push(`${ff.missing} ffmpeg processes exited during the window`);
      const step: StepResult = {
        cameras: n,
        held: reasons.length === 0,
        reasons,
        windowS: (t1 - t0) / 1000,
        segments: v.segments,
        gatewayCpuMs: g1 - g0,
        ffmpegCpuMs: ff.ms,
        sourcesCpuMs: usedBetween(src0, src1).ms,
        machineBusy: busyShare(m0, m1),
        mbitPerStream: v.mbitPerStream,
        ffmpegRssMiB: rss.length ? rss.reduce((s, x) => s + x, 0) / rss.length / 2 ** 20 : 0,
        maxIntervalS: v.maxIntervalS,
      };
      results.push(step);
      o.log(formatGatewayStep(step));
      if (!step.held) break;
    }
  } finally {
    db?.close();
    await gateway?.kill();
    await central.kill();
    await Promise.all(sources.map(stopSources));
  }
  return results;
}

function notStarted(cameras: number, reason: string): StepResult {
  return {
    cameras,
    held: false,
    reasons: [reason],
    windowS: 0,
    segments: 0,
    gatewayCpuMs: 0,
    ffmpegCpuMs: 0,
    sourcesCpuMs: 0,
    machineBusy: 0,
    mbitPerStream: 0,
    ffmpegRssMiB: 0,
    maxIntervalS: 0,
  };
}

/** Polls the index for new rows and the gateway's log for bad events. */
function watcher(db: Database.Database, gateway: Proc, logs: Map<string, CamLog>) {
  const rowsAfter = db.prepare(
    'SELECT id, camera_id AS cameraId, start_ms AS startMs, end_ms AS endMs, bytes FROM recording_segments WHERE id > ? ORDER BY id',
  );
  let lastId = (db.prepare('SELECT coalesce(max(id), 0) AS m FROM recording_segments').get() as { m: number })
    .m;
  let offset = gateway.output().length;
  const bad: BadEvent[] = [];
  return {
    bad,
    poll() {
      const now = Date.now();
      for (const r of rowsAfter.all(lastId) as Row[]) {
        lastId = r.id;
        const l = logs.get(r.cameraId);
        l?.indexedAt.push(now);
        l?.segments.push({ at: now, ms: r.endMs - r.startMs, bytes: r.bytes });
      }
      const out = gateway.output();
      const text = out.slice(offset);
      const cut = text.lastIndexOf('\n') + 1;
      offset += cut;
      for (const line of text.slice(0, cut).split('\n')) {
        const m = /"cameraId":"([^"]+)".*"msg":"([^"]+)"/.exec(line);
        const type = m ? BAD_MSG[m[2]!] : undefined;
        if (type && type !== 'recording_started') bad.push({ at: now, type, cameraId: m![1]! });
      }
    },
  };
}

export function formatGatewayStep(s: StepResult): string {
  if (!s.windowS) return `  N=${s.cameras}: NOT held (${s.reasons.join('; ')})`;
  const w = s.windowS * 1000;
  const pct = (ms: number) => `${((100 * ms) / w).toFixed(1)} %`;
  return [
    `  N=${s.cameras}: ${s.held ? 'held' : `NOT held (${s.reasons.join('; ')})`}`,
    `segments ${s.segments} in ${s.windowS.toFixed(1)} s, max interval ${s.maxIntervalS.toFixed(1)} s`,
    `${s.mbitPerStream.toFixed(2)} Mbit/s per stream`,
    `ffmpeg ${pct(s.ffmpegCpuMs)} of a core (${pct(s.ffmpegCpuMs / s.cameras)} per stream, ${s.ffmpegRssMiB.toFixed(0)} MiB RSS each)`,
    `gateway process ${pct(s.gatewayCpuMs)} = ${((100 * s.gatewayCpuMs) / s.ffmpegCpuMs).toFixed(2)} % of ffmpeg`,
    `sources ${pct(s.sourcesCpuMs)}`,
    `machine busy ${(100 * s.machineBusy).toFixed(0)} %`,
  ].join(', ');
}
