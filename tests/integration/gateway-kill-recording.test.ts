import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { stopOrphanFfmpeg } from '../../gateway/recorder/recovery.js';
import type { Gap, Segment } from '../../gateway/recorder/segment-index.js';
import { SegmentIndex } from '../../gateway/recorder/segment-index.js';
import { startFleet } from '../../simulators/onvif/fleet.js';
import {
  ffmpegAvailable,
  freeUdpPort,
  probe,
  ffmpegProcessesWith as processesWith,
  running,
  startUdpSource,
} from '../gateway/recorder/media.js';
import { type Proc, requireBuild, tempDir, until } from '../helpers/procs.js';
import { type Setup, setupSite, startCentral, startGateway } from '../helpers/site.js';

/**
 * The issue: "SIGKILL of the gateway ... leaves playable segments and recording resumes".
 * The gateway process (not its ffmpeg) is SIGKILLed while recording. Its ffmpeg child does not die
 * with it: it is reparented (to PID 1) and keeps writing into `incoming/`. The next
 * gateway on the same data dir must stop that orphan (pid file), file what it wrote, and record
 * again with exactly one ffmpeg per camera directory.
 */

const CAM = 'cam-kill';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function ppidOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Reads the gateway's segment index (its own tables, through the gateway's own code). */
function readIndex<T>(gatewayDb: string, fn: (index: SegmentIndex) => T): T {
  const db = new Database(gatewayDb, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return fn(new SegmentIndex(db));
  } finally {
    db.close();
  }
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.mp4'))
    .map((f) => join(dir, f));
}

describe('gateway SIGKILLed while recording, as separate processes', () => {
  const procs: Proc[] = [];
  const sources: Array<{ stop(): Promise<void> }> = [];
  const dirs: Array<{ path: string; cleanup: () => void }> = [];
  afterEach(async () => {
    for (const p of procs.splice(0).reverse()) await p.kill('SIGKILL');
    for (const src of sources.splice(0)) await src.stop();
    for (const d of dirs.splice(0)) {
      // an ffmpeg the test orphaned and nobody stopped (a failed assertion): stop it by its pid
      for (const pid of processesWith(d.path)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      d.cleanup();
    }
  });

  /** The camera stream: a UDP test source, or the ONVIF camera simulator's RTSP (one keyframe a second). */
  const streams: Record<string, () => Promise<string>> = {
    'a UDP source': async () => {
      const port = await freeUdpPort();
      sources.push(startUdpSource(port));
      return `udp://127.0.0.1:${port}`;
    },
    "the camera simulator's RTSP stream": async () => {
      const fleet = await startFleet({
        cameras: [{ name: 'kill', zone: 'entrance', password: 'sim-secret' }],
        rtspPort: 0,
        discovery: false,
        bitrateKbps: 400,
        fps: 10,
      });
      sources.push(fleet); // started once its stream plays
      return fleet.cameras[0]!.streamUrl.replace('rtsp://', 'rtsp://admin:sim-secret@');
    },
  };

  it.each(Object.keys(streams))(
    'recording %s: the restarted gateway stops the orphaned ffmpeg, keeps every segment playable and indexed, records the hole and records again',
    async (stream) => {
      requireBuild();
      expect(ffmpegAvailable(), 'ffmpeg is installed by .ci/run').toBe(true);
      const t0 = Date.now();
      const dir = tempDir('cw-gwkill-rec-');
      dirs.push(dir);
      const streamUrl = await streams[stream]!();
      const recordings = join(dir.path, 'recordings');
      const camDir = join(recordings, CAM);
      const incoming = join(camDir, 'incoming');
      const pidFile = join(incoming, 'ffmpeg.pid');
      const s: Setup = await setupSite(dir.path, {
        extra: {
          cameras: {
            recordingsDir: recordings,
            retentionDays: 30,
            segmentSeconds: 1,
            devices: [{ deviceId: CAM, zone: 'entrance', streamUrl }],
          },
        },
      });
      const gatewayDb = join(dir.path, 'gateway', 'gateway.db');
      const segments = (): Segment[] =>
        readIndex(gatewayDb, (ix) => ix.range(CAM, 0, Date.now() + 3_600_000));

      procs.push(await startCentral(s));
      const gw1 = await startGateway(s);
      procs.push(gw1);

      // 1. several closed segments indexed by the first gateway
      await until(async () => segments().length >= 4, 30_000, 200);
      const pid1 = Number(readFileSync(pidFile, 'utf8'));
      expect(processesWith(incoming)).toEqual([pid1]);
      expect(ppidOf(pid1)).toBe(gw1.child.pid);
      // kill mid-segment: wait for the next closed segment, then 0.5 s into the one after it
      const n = segments().length;
      await until(async () => segments().length > n, 10_000, 50);
      await sleep(500);
      const before = segments();

      // 2. SIGKILL of the gateway process, not of its ffmpeg
      const killedAt = Date.now();
      await gw1.kill('SIGKILL');
      await sleep(2500); // the site is without a gateway for a while
      const orphanSurvived = running(pid1);
      // eslint-disable-next-line no-console
      console.log(
        `gateway SIGKILLed: its ffmpeg ${pid1} ${orphanSurvived ? `survived as an orphan (ppid ${ppidOf(pid1)})` : 'died with it'}`,
      );
      if (orphanSurvived) {
        expect(ppidOf(pid1)).not.toBe(gw1.child.pid);
        // it still writes into the camera's incoming directory, and the pid file still names it
        expect(processesWith(incoming)).toEqual([pid1]);
        expect(Number(readFileSync(pidFile, 'utf8'))).toBe(pid1);
      }
      // nothing was indexed while no gateway ran
      expect(segments().length).toBe(before.length);

      // 3. a new gateway on the same data dir: its recovery pass runs before "gateway ready"
      const restartedAt = Date.now();
      const gw2 = await startGateway(s);
      procs.push(gw2);
      expect(running(pid1), 'the orphaned ffmpeg was stopped by the new gateway').toBe(false);
      const pid2 = await until(async () => {
        const p = processesWith(incoming);
        return p.length === 1 && p[0] !== pid1 ? p[0] : undefined;
      }, 10_000);
      expect(ppidOf(pid2)).toBe(gw2.child.pid);
      expect(Number(readFileSync(pidFile, 'utf8'))).toBe(pid2);
      // the new run's id (its spawn time, after the recovery pass) is in its output pattern
      const cmd2 = readFileSync(`/proc/${pid2}/cmdline`, 'utf8');
      const spawnedAt = Number(new RegExp(`${CAM}_(\\d+)_%06d\\.mp4`).exec(cmd2)?.[1]);
      expect(spawnedAt).toBeGreaterThanOrEqual(restartedAt);
      // recording resumes: new closed segments from the new run; never two ffmpeg on this directory
      let most = 0;
      await until(
        async () => {
          most = Math.max(most, processesWith(incoming).length);
          return segments().filter((x) => x.startMs >= spawnedAt).length >= 3;
        },
        30_000,
        200,
      );
      expect(most).toBe(1);
      expect(processesWith(incoming)).toEqual([pid2]);

      // every segment indexed before the kill is still indexed, at its path
      const after = segments();
      const paths = new Set(after.map((x) => x.path));
      for (const b of before) expect(paths.has(b.path), b.path).toBe(true);
      // what the orphan (or the killed run) left in incoming/ was filed and indexed by the recovery
      const beforePaths = new Set(before.map((x) => x.path));
      const recovered = after.filter((x) => !beforePaths.has(x.path) && x.startMs < spawnedAt);
      const fresh = after.filter((x) => x.startMs >= spawnedAt);
      expect(recovered.length + fresh.length + before.length).toBe(after.length);
      expect(recovered.length).toBeGreaterThanOrEqual(1);
      if (orphanSurvived) {
        // the orphan went on recording the downtime: at least 2 of its 2.5 s are in the index
        const cover = readIndex(gatewayDb, (ix) => ix.continuity(CAM, killedAt, killedAt + 2500));
        expect(cover.coveredMs).toBeGreaterThanOrEqual(2000);
      }

      // no index row points at a missing or unplayable file; every filed file on disk is indexed
      for (const x of after) {
        expect(existsSync(x.path), x.path).toBe(true);
        expect(probe(x.path)?.packets ?? 0, x.path).toBeGreaterThan(0);
      }
      // (the disk first: the gateway goes on filing segments, each renamed before it is indexed)
      const onDisk = readdirSync(camDir)
        .filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d))
        .flatMap((d) => filesUnder(join(camDir, d)));
      const indexedNow = new Set(segments().map((x) => x.path));
      for (const f of onDisk) expect(indexedNow.has(f), `${f} is on disk but not indexed`).toBe(true);
      for (const p of indexedNow) expect(existsSync(p), `${p} is indexed but missing`).toBe(true);
      // incoming/ holds only the new run's open segment(s); the old run's files are all gone from it
      const runOf = (f: string) => /_(\d+)_\d{6}\.mp4$/.exec(f)?.[1];
      const runs = new Set(filesUnder(incoming).map(runOf));
      expect(runs.size).toBeLessThanOrEqual(1);
      for (const r of runs) expect(Number(r)).toBe(spawnedAt);
      // a file recovery could not read is set aside, never indexed: at most the one being written
      const unreadable = filesUnder(join(camDir, 'unreadable'));
      expect(unreadable.length).toBeLessThanOrEqual(1);
      for (const u of unreadable) expect(paths.has(u)).toBe(false);

      // the index accounts for the downtime: every hole over 1 s from the first segment to the last
      // is a recorded gap (the first segment of the new run after the recovered ones)
      const last = after.at(-1)!;
      const { cont, gaps } = readIndex(gatewayDb, (ix) => ({
        cont: ix.continuity(CAM, after[0]!.startMs, last.endMs, 1000),
        gaps: ix.gaps(CAM, 0, Date.now() + 3_600_000),
      }));
      expect(
        cont.gaps.filter((g: Gap) => g.reason === 'unrecorded'),
        JSON.stringify(cont.gaps),
      ).toEqual([]);
      const firstNew = fresh[0]!;
      const prevEnd = Math.max(...after.filter((x) => x.startMs < spawnedAt).map((x) => x.endMs));
      // eslint-disable-next-line no-console
      console.log(
        `segments before the kill ${before.length}, recovered ${recovered.length}, after the restart ${fresh.length}; ` +
          `orphan's last segment end → new ffmpeg ${spawnedAt - prevEnd} ms, hole ${firstNew.startMs - prevEnd} ms; ` +
          `unreadable ${unreadable.length}; gaps ${JSON.stringify(gaps.map((g) => [g.toMs - g.fromMs, g.reason]))}; ${Date.now() - t0} ms`,
      );
      if (orphanSurvived) {
        // stopping the orphan (SIGINT, it exits at once) and filing its files takes well under the
        // 3 s grace: the new gateway does not wait for the orphan's zombie to be reaped
        expect(spawnedAt - prevEnd).toBeLessThan(2500);
      }
      // the hole between the orphan's end and the new run is a recorded gap (`recorder_down`, or
      // `stall` when the recovery took longer than 2 × the 1 s segments)
      if (firstNew.startMs - prevEnd > 1000) {
        expect(gaps.some((g) => g.fromMs <= prevEnd && g.toMs >= firstNew.startMs)).toBe(true);
      }
    },
    90_000,
  );

  it('an orphan that exits on SIGINT but stays a zombie (its new parent does not reap yet) does not hold the recovery for the grace period', async () => {
    expect(ffmpegAvailable(), 'ffmpeg is installed by .ci/run').toBe(true);
    const dir = tempDir('cw-gwkill-zombie-');
    dirs.push(dir);
    const incoming = join(dir.path, 'cam', 'incoming');
    mkdirSync(incoming, { recursive: true });
    // an ffmpeg naming the incoming dir, whose parent (sleep, after exec) never reaps it
    const ff = `ffmpeg -hide_banner -nostdin -loglevel error -re -f lavfi -i testsrc=size=64x64:rate=5 -f null ${incoming}/out`;
    const parent = spawn('sh', ['-c', `${ff} & echo $! > ${incoming}/ffmpeg.pid; exec sleep 60`], {
      stdio: 'ignore',
    });
    try {
      const pid = await until(async () => {
        const p = existsSync(join(incoming, 'ffmpeg.pid'))
          ? Number(readFileSync(join(incoming, 'ffmpeg.pid'), 'utf8'))
          : 0;
        return p && processesWith(incoming).includes(p) ? p : undefined;
      }, 10_000);
      // ffmpeg handles SIGINT once it has installed its handler (the shell started it ignoring SIGINT)
      await until(async () => {
        const cgt = /SigCgt:\s*([0-9a-f]+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
        return cgt !== undefined && (BigInt(`0x${cgt}`) & 2n) !== 0n;
      }, 10_000);
      const t = Date.now();
      await stopOrphanFfmpeg(incoming);
      const took = Date.now() - t;
      expect(running(pid)).toBe(false);
      expect(readFileSync(`/proc/${pid}/stat`, 'utf8')).toMatch(/\) Z /); // still a zombie of `sleep`
      expect(existsSync(join(incoming, 'ffmpeg.pid'))).toBe(false);
      expect(took).toBeLessThan(2000); // the grace is 3 s
    } finally {
      parent.kill('SIGKILL');
    }
  }, 20_000);
});
