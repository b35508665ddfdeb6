/**
 * SIGKILL of a recording ffmpeg that reads an ONVIF camera over RTSP: the
 * camera simulator (real RTSP from ffmpeg, one keyframe a second), the
 * gateway's camera module resolving it with the real onvif client, ffmpeg
 * recording 2 s fragmented-MP4 segments. Killed 1.5 s into a segment, the
 * part it wrote (one 1 s fragment) is recovered into the index and plays, and
 * the recorder starts a new ffmpeg that records on.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CameraModule } from '../../../../gateway/adapters/cameras.js';
import { CamerasConfig } from '../../../../gateway/config.js';
import { Outbox } from '../../../../gateway/outbox.js';
import { SegmentIndex } from '../../../../gateway/recorder/segment-index.js';
import { validateConfig } from '../../../../lib/config.js';
import { Metrics } from '../../../../lib/metrics.js';
import { liveFfmpegCount } from '../../../../simulators/onvif/ffmpeg.js';
import { type Fleet, startFleet } from '../../../../simulators/onvif/fleet.js';
import { type Db, openDatabase } from '../../../../storage/sqlite/open.js';
import { tempDir, until } from '../../../helpers/procs.js';
import { ffmpegAvailable, ffmpegProcessesWith, probe } from '../../recorder/media.js';

const PASSWORD = 'kill-test-secret';
let fleet: Fleet;
let db: Db;
let cams: CameraModule;
const dir = tempDir('cw-onvif-kill-');
const recordings = join(dir.path, 'rec');
const incoming = join(recordings, 'cam-door', 'incoming');

/** Pids of the ffmpeg processes writing into this camera's incoming directory. */
const recorderPids = () => ffmpegProcessesWith(incoming);

beforeAll(async () => {
  expect(ffmpegAvailable(), 'ffmpeg is installed by .ci/run').toBe(true);
  fleet = await startFleet({
    cameras: [{ name: 'door', zone: 'entrance', password: PASSWORD }],
    rtspPort: 0,
    discovery: false,
    bitrateKbps: 400,
    fps: 10,
  });
  db = openDatabase(join(dir.path, 'gateway.db'));
  const config = validateConfig(
    CamerasConfig,
    {
      recordingsDir: recordings,
      retentionDays: 30,
      segmentSeconds: 2,
      siteDeviceId: 'recorder',
      devices: [
        {
          deviceId: 'cam-door',
          zone: 'entrance',
          onvif: {
            host: '127.0.0.1',
            port: fleet.cameras[0]!.httpPort,
            username: 'admin',
            password: PASSWORD,
          },
        },
      ],
    },
    'site.yaml',
  );
  const outbox = new Outbox(db, 'site-a', () => false);
  cams = new CameraModule({ config, db, outbox, metrics: new Metrics(), changed: () => undefined });
  await cams.start();
}, 60_000);

afterAll(async () => {
  await cams?.stop();
  db?.close();
  await fleet?.stop();
  dir.cleanup();
  expect(liveFfmpegCount()).toBe(0);
}, 30_000);

describe('recording an ONVIF camera over RTSP', () => {
  it('after SIGKILL of ffmpeg mid-segment, the part written is indexed and plays, and a new ffmpeg records on', async () => {
    const index = new SegmentIndex(db);
    const all = () => index.range('cam-door', 0, Date.now() + 60_000);
    await until(async () => all().length >= 2, 40_000);
    // 1.5 s into a 2 s segment: the first 1 s fragment (one GOP) has been written
    const n = all().length;
    await until(async () => all().length > n, 10_000, 20);
    await new Promise((r) => setTimeout(r, 1500));
    const [pid, ...others] = recorderPids();
    expect(pid).toBeDefined();
    expect(others).toEqual([]);
    const lastBefore = index.last('cam-door')!;
    process.kill(pid!, 'SIGKILL');
    const killedAt = Date.now();

    // a new ffmpeg for the same camera, and it records
    await until(async () => {
      const p = recorderPids();
      return p.length === 1 && p[0] !== pid;
    }, 30_000);
    await until(async () => all().filter((s) => s.startMs > killedAt).length >= 2, 40_000);

    const segs = all();
    // the segment cut by the kill: indexed after the last one before it, ending near the kill (a
    // segment of the new ffmpeg cannot: it starts after the restart backoff and lasts 2 s)
    const cut = segs.filter((s) => s.id > lastBefore.id && s.endMs <= killedAt + 1500);
    expect(cut).toHaveLength(1);
    expect(cut[0]!.startMs).toBeGreaterThanOrEqual(lastBefore.endMs - 500);
    expect(probe(cut[0]!.path)?.packets ?? 0).toBeGreaterThanOrEqual(5);
    // every indexed segment plays, each path once, nothing but the open segment left in incoming
    for (const s of segs) expect(probe(s.path)?.packets ?? 0, s.path).toBeGreaterThan(0);
    expect(new Set(segs.map((s) => s.path)).size).toBe(segs.length);
    expect(readdirSync(incoming).filter((f) => f.endsWith('.mp4')).length).toBeLessThanOrEqual(1);
  }, 120_000);
});
