/**
 * The retention values of the cameras config reach the sweeper: a camera's
 * own `retentionDays` decides what of its footage is deleted (and is raised,
 * never lowered, by a longer site policy from the central), and the
 * `degradation:` block decides when and how recording is degraded and when
 * `retention_at_risk` is raised.
 *
 * In-process, without ffmpeg: the cameras are ONVIF cameras at closed ports
 * (they stay offline); the footage is rows (and small files) added to the
 * segment index; the disk is a fake probe.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CameraModule } from '../../../gateway/adapters/cameras.js';
import { CommandRouter } from '../../../gateway/commands.js';
import { CamerasConfig } from '../../../gateway/config.js';
import { Outbox } from '../../../gateway/outbox.js';
import { SegmentIndex } from '../../../gateway/recorder/segment-index.js';
import { validateConfig } from '../../../lib/config.js';
import { Metrics } from '../../../lib/metrics.js';
import { freePort, tempDir } from '../../../lib/testkit/procs.js';
import { commandTopic, type Envelope, mintId, PROTOCOL_VERSION } from '../../../protocol/index.js';
import { type Db, openDatabase } from '../../../storage/sqlite/open.js';

const DAY = 86_400_000;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const dir = tempDir('cw-cam-retention-config-');

interface Running {
  db: Db;
  cams: CameraModule;
  events: Envelope[];
  recordings: string;
  commands: CommandRouter;
  /** Free bytes the fake disk reports (total 1 TiB). */
  disk: { free: number };
}
const running: Running[] = [];
let n = 0;

async function startModule(
  cameras: Array<{ deviceId: string; retentionDays?: number }>,
  extra: Record<string, unknown> = {},
  free = 500 * GiB,
): Promise<Running> {
  const recordings = join(dir.path, `rec-${++n}`);
  mkdirSync(recordings, { recursive: true });
  const devices = [];
  for (const c of cameras)
    devices.push({ ...c, zone: 'entrance', onvif: { host: '127.0.0.1', port: await freePort() } });
  const config = validateConfig(
    CamerasConfig,
    { recordingsDir: recordings, retentionDays: 30, devices, ...extra },
    'site.yaml',
  );
  const db = openDatabase(':memory:');
  const outbox = new Outbox(db, 'site-a', () => false);
  const events: Envelope[] = [];
  outbox.onEvent((e) => events.push(e));
  const disk = { free };
  const cams = new CameraModule({
    config,
    db,
    outbox,
    metrics: new Metrics(),
    changed: () => undefined,
    diskFree: async () => ({ freeBytes: disk.free, totalBytes: 1024 * GiB }),
  });
  const commands = new CommandRouter({ siteId: 'site-a', reply: () => undefined });
  await cams.start();
  cams.registerCommands(commands);
  const r = { db, cams, events, recordings, commands, disk };
  running.push(r);
  return r;
}

afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.cams.stop();
    r.db.close();
  }
});
afterAll(() => dir.cleanup());

/** A recorded segment (a small file and its index row) of `bytes` that ended `ageMs` ago. */
function segment(r: Running, cameraId: string, name: string, ageMs: number, bytes = 1024): string {
  const endMs = Date.now() - ageMs;
  const folder = join(r.recordings, cameraId, new Date(endMs).toISOString().slice(0, 10));
  mkdirSync(folder, { recursive: true });
  const path = join(folder, `${name}.mp4`);
  writeFileSync(path, Buffer.alloc(16));
  new SegmentIndex(r.db).add({ cameraId, path, startMs: endMs - 10_000, endMs, bytes });
  return path;
}

/** The last hour recorded by a camera: six 10-minute segments of `bytes` each. */
function lastHour(r: Running, cameraId: string, bytes: number): void {
  for (let i = 0; i < 6; i++) {
    const endMs = Date.now() - i * 10 * 60_000;
    new SegmentIndex(r.db).add({
      cameraId,
      path: join(r.recordings, cameraId, `live-${i}.mp4`),
      startMs: endMs - 10 * 60_000 + 1,
      endMs,
      bytes,
    });
  }
}

/** Runs a retention pass and lets the outbox commit what it reported. */
async function pass(r: Running) {
  const result = await r.cams.retentionPass();
  await new Promise((res) => setTimeout(res, 20));
  return result;
}

const degraded = (r: Running) =>
  r.events
    .filter((e) => e.kind === 'recording_state')
    .map((e) => `${e.deviceId}:${(e.data as { state: string; reason?: string }).state}`);
const retentionStates = (r: Running) =>
  r.events.filter((e) => e.kind === 'retention_state').map((e) => (e.data as { state: string }).state);
const policyDays = (r: Running, id: string) => r.cams.inventory().find((c) => c.deviceId === id)?.policyDays;

async function setSiteDays(r: Running, days: number): Promise<void> {
  const cmd = {
    v: PROTOCOL_VERSION,
    id: mintId(),
    name: 'retention_policy',
    ts: new Date().toISOString(),
    args: { days },
  };
  await r.commands.handle(commandTopic('site-a', 'retention_policy'), Buffer.from(JSON.stringify(cmd)));
}

describe('per-camera retentionDays', () => {
  it('a 45-day camera keeps 40-day-old footage that a 30-day camera deletes', async () => {
    const r = await startModule([{ deviceId: 'cam-long', retentionDays: 45 }, { deviceId: 'cam-site' }]);
    expect(policyDays(r, 'cam-long')).toBe(45);
    expect(policyDays(r, 'cam-site')).toBe(30);
    const keptLong = segment(r, 'cam-long', 'forty', 40 * DAY);
    const goneLong = segment(r, 'cam-long', 'fifty', 50 * DAY);
    const goneSite = segment(r, 'cam-site', 'forty', 40 * DAY);
    const keptSite = segment(r, 'cam-site', 'twenty', 20 * DAY);
    const result = await pass(r);
    expect(result?.deleted).toBe(2);
    expect(existsSync(keptLong)).toBe(true);
    expect(existsSync(keptSite)).toBe(true);
    expect(existsSync(goneLong)).toBe(false);
    expect(existsSync(goneSite)).toBe(false);
  }, 30_000);

  it("a site policy from the central above a camera's days raises it; lowered again, the camera keeps its own", async () => {
    const r = await startModule([{ deviceId: 'cam-long', retentionDays: 45 }, { deviceId: 'cam-site' }]);
    await setSiteDays(r, 60);
    expect(policyDays(r, 'cam-long')).toBe(60);
    expect(policyDays(r, 'cam-site')).toBe(60);
    const fifty = segment(r, 'cam-long', 'fifty', 50 * DAY);
    expect((await pass(r))?.deleted).toBe(0);
    await setSiteDays(r, 31);
    expect(policyDays(r, 'cam-long')).toBe(45);
    expect(policyDays(r, 'cam-site')).toBe(31);
    expect((await pass(r))?.deleted).toBe(1);
    expect(existsSync(fifty)).toBe(false);
  }, 30_000);
});

describe('degradation config', () => {
  const two = [{ deviceId: 'cam-a' }, { deviceId: 'cam-b' }];

  it('a configured reserve decides when degradation starts; priority decides which camera goes first', async () => {
    // 1 GiB free: above the default reserve (512 MiB at this bandwidth), below a configured 2 GiB
    const byDefault = await startModule(two, {}, GiB);
    const configured = await startModule(
      two,
      { degradation: { reserveBytes: 2 * GiB, priority: ['cam-a'] } },
      GiB,
    );
    for (const r of [byDefault, configured]) {
      lastHour(r, 'cam-a', MiB);
      lastHour(r, 'cam-b', MiB);
    }
    await pass(byDefault);
    await pass(configured);
    expect(degraded(byDefault)).toEqual([]);
    // cam-b is not in the priority list: least important, stopped first; one step per pass
    expect(degraded(configured)).toEqual(['cam-b:degraded']);
    await pass(configured);
    expect(degraded(configured)).toEqual(['cam-b:degraded', 'cam-a:degraded']);
    const reasons = configured.events
      .filter((e) => e.kind === 'recording_state')
      .map((e) => (e.data as { reason?: string }).reason);
    expect(reasons).toEqual(['stop_lowest_priority: stopped', 'stop_lowest_priority: stopped']);
    // nothing young was deleted
    expect(new SegmentIndex(configured.db).totals().segments).toBe(12);
    // free space back above the resume level (default 2 × reserve): undone one per pass, last first
    configured.disk.free = 5 * GiB;
    await pass(configured);
    expect(degraded(configured).slice(2)).toEqual(['cam-a:recording']);
  }, 30_000);

  it('mode stop_all stops every camera in one pass', async () => {
    const r = await startModule(two, { degradation: { mode: 'stop_all', reserveBytes: 2 * GiB } }, GiB);
    lastHour(r, 'cam-a', MiB);
    lastHour(r, 'cam-b', MiB);
    await pass(r);
    expect(degraded(r).sort()).toEqual(['cam-a:degraded', 'cam-b:degraded']);
  }, 30_000);

  it('marginDays decides when retention_at_risk is raised', async () => {
    // 10 MiB per 10 minutes: about 1440 MiB/day; the disk holds about 60 days of it
    const free = (60 * 1440 + 512 - 60) * MiB;
    const byDefault = await startModule([{ deviceId: 'cam-a' }], {}, free);
    const wide = await startModule([{ deviceId: 'cam-a' }], { degradation: { marginDays: 60 } }, free);
    for (const r of [byDefault, wide]) lastHour(r, 'cam-a', 10 * MiB);
    await pass(byDefault);
    await pass(wide);
    expect(retentionStates(byDefault)).toEqual([]); // 60 days ≥ 30 + 2
    expect(retentionStates(wide)).toEqual(['at_risk']); // 60 days < 30 + 60
    expect(degraded(wide)).toEqual([]); // far above the reserve: recording untouched
    // each camera report carries the margin, so the web page judges "at risk" as the gateway does
    expect(byDefault.cams.inventory().map((c) => c.atRiskMarginDays)).toEqual([2]);
    expect(wide.cams.inventory().map((c) => c.atRiskMarginDays)).toEqual([60]);
  }, 30_000);
});
