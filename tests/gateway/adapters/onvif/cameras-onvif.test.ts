/**
 * The gateway's camera module with `onvif:` cameras against the simulator:
 * real onvif client, real RTSP, real ffmpeg recording into a real SQLite index
 * and outbox. Wrong password, a camera that disappears, and PullPoint events.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CameraModule } from '../../../../gateway/adapters/cameras.js';
import { CamerasConfig } from '../../../../gateway/config.js';
import { Outbox } from '../../../../gateway/outbox.js';
import { validateConfig } from '../../../../lib/config.js';
import { Metrics } from '../../../../lib/metrics.js';
import type { Envelope } from '../../../../protocol/index.js';
import { liveFfmpegCount } from '../../../../simulators/onvif/ffmpeg.js';
import { type Fleet, startFleet } from '../../../../simulators/onvif/fleet.js';
import { type Db, openDatabase } from '../../../../storage/sqlite/open.js';
import { tempDir, until } from '../../../helpers/procs.js';
import { ffmpegAvailable, probe } from '../../recorder/media.js';

const PASSWORD = 'right-secret';
let fleet: Fleet;
let db: Db;
let outbox: Outbox;
let cams: CameraModule;
const dir = tempDir('cw-onvif-mod-');
const recordings = join(dir.path, 'rec');

/** Every event in the outbox (nothing is sent: there is no uplink). */
function events(): Envelope[] {
  return outbox.peek(10_000, new Set()).map((e) => JSON.parse(e.payload.toString()) as Envelope);
}
const of = (deviceId: string, kind: string) =>
  events().filter((e) => e.deviceId === deviceId && e.kind === kind);

beforeAll(async () => {
  expect(ffmpegAvailable(), 'ffmpeg is installed by .ci/run').toBe(true);
  fleet = await startFleet({
    cameras: [
      { name: 'gate', zone: 'entrance', password: PASSWORD },
      { name: 'hall', zone: 'reception_hall', password: PASSWORD },
    ],
    rtspPort: 0,
    discovery: false,
    bitrateKbps: 400,
    fps: 10,
  });
  db = openDatabase(join(dir.path, 'gateway.db'));
  outbox = new Outbox(db, 'site-a', () => false);
  const config = validateConfig(
    CamerasConfig,
    {
      recordingsDir: recordings,
      retentionDays: 30,
      segmentSeconds: 1,
      siteDeviceId: 'recorder',
      devices: [
        {
          deviceId: 'cam-gate',
          zone: 'entrance',
          onvif: {
            host: '127.0.0.1',
            port: fleet.cameras[0]!.httpPort,
            username: 'admin',
            password: PASSWORD,
          },
        },
        {
          deviceId: 'cam-hall',
          zone: 'reception_hall',
          onvif: {
            host: '127.0.0.1',
            port: fleet.cameras[1]!.httpPort,
            username: 'admin',
            password: 'not-the-password',
          },
        },
        {
          deviceId: 'cam-odd',
          zone: 'corridor',
          onvif: {
            host: '127.0.0.1',
            port: fleet.cameras[0]!.httpPort,
            username: 'admin',
            password: PASSWORD,
            profile: 'no-such-profile',
          },
        },
      ],
    },
    'site.yaml',
  );
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

describe('onvif cameras in the gateway', () => {
  it('records playable segments from the resolved RTSP stream and reports the device', async () => {
    await until(
      async () => cams.inventory().find((c) => c.deviceId === 'cam-gate')?.recording === true,
      30_000,
    );
    const day = readdirSync(join(recordings, 'cam-gate')).find((d) => /^\d{4}-\d{2}-\d{2}$/.test(d))!;
    const files = readdirSync(join(recordings, 'cam-gate', day)).filter((f) => f.endsWith('.mp4'));
    expect(files.length).toBeGreaterThan(0);
    expect(probe(join(recordings, 'cam-gate', day, files[0]!))?.packets ?? 0).toBeGreaterThan(0);
    const report = cams.inventory().find((c) => c.deviceId === 'cam-gate') as Record<string, unknown>;
    expect(report).toMatchObject({
      zone: 'entrance',
      online: true,
      manufacturer: 'Carewatch Simulator',
      model: 'SIM-IPC-H264',
      firmware: '1.0.0',
    });
    const r = cams.resolvedCamera('cam-gate');
    expect(r).toMatchObject({
      cameraId: 'cam-gate',
      snapshotUri: fleet.cameras[0]!.snapshotUrl,
      username: 'admin',
      password: PASSWORD,
    });
    expect(r!.streamUrl).toBe(fleet.cameras[0]!.streamUrl.replace('rtsp://', `rtsp://admin:${PASSWORD}@`));
    expect(Object.keys(r!).sort()).toEqual(['cameraId', 'password', 'snapshotUri', 'streamUrl', 'username']);
  }, 40_000);

  it('wrong password: an offline event with reason auth, no recording, no crash; recovers when it matches', async () => {
    const off = of('cam-hall', 'camera_state');
    expect(off[0]?.data).toMatchObject({ state: 'offline', zone: 'reception_hall' });
    expect((off[0]?.data as { reason?: string } | undefined)?.reason).toMatch(/^auth: /);
    expect(JSON.stringify(events())).not.toContain('not-the-password');
    expect(cams.resolvedCamera('cam-hall')).toBeUndefined();
    expect(cams.inventory().find((c) => c.deviceId === 'cam-hall')).toMatchObject({
      online: false,
      recording: false,
    });
    // Retries with backoff report the same episode once.
    await new Promise((r) => setTimeout(r, 2500));
    expect(of('cam-hall', 'camera_state')).toHaveLength(1);
    // The camera's password is changed to what the gateway has: the next retry resolves it.
    fleet.cameras[1]!.setPassword('not-the-password');
    await until(
      async () => cams.inventory().find((c) => c.deviceId === 'cam-hall')?.recording === true,
      40_000,
    );
    const states = of('cam-hall', 'camera_state').map((e) => (e.data as { state: string }).state);
    expect(states[0]).toBe('offline');
    expect(states.at(-1)).toBe('online');
  }, 60_000);

  it('a configured profile the camera does not offer: offline with reason profile_not_found', () => {
    const off = of('cam-odd', 'camera_state');
    expect(off).toHaveLength(1);
    expect(off[0]?.data).toMatchObject({ state: 'offline', zone: 'corridor' });
    expect((off[0]?.data as { reason?: string } | undefined)?.reason).toMatch(
      /^profile_not_found: .*no-such-profile/,
    );
    expect(cams.resolvedCamera('cam-odd')).toBeUndefined();
  });

  it('tampering and motion from the camera become camera_event entries in the outbox', async () => {
    const gate = fleet.cameras[0]!;
    await until(async () => gate.events.subscriptionCount > 0, 10_000);
    gate.triggerTamper(true);
    await until(async () => of('cam-gate', 'camera_event').length >= 1, 10_000);
    gate.triggerMotion(true);
    gate.triggerTamper(false);
    await until(async () => of('cam-gate', 'camera_event').length >= 3, 10_000);
    expect(of('cam-gate', 'camera_event').map((e) => e.data)).toEqual([
      { event: 'tamper', active: true },
      { event: 'motion', active: true },
      { event: 'tamper', active: false },
    ]);
  }, 30_000);

  it('a camera that disappears: ffmpeg fails, re-resolution says unreachable; it comes back and records', async () => {
    const gate = fleet.cameras[0]!;
    const before = of('cam-gate', 'camera_state').length;
    await gate.goOffline();
    const off = await until(async () => {
      const s = of('cam-gate', 'camera_state').slice(before);
      return s.find((e) => (e.data as { state: string }).state === 'offline');
    }, 40_000);
    const reason = (off.data as { reason?: string }).reason ?? '';
    expect(reason).toMatch(/^unreachable: /);
    expect(reason).not.toContain(PASSWORD);
    expect(cams.inventory().find((c) => c.deviceId === 'cam-gate')?.recording).toBe(false);
    await gate.goOnline();
    await gate.waitForStream(15_000);
    const segsBefore = readdirSync(join(recordings, 'cam-gate'), { recursive: true }).length;
    await until(async () => {
      const s = of('cam-gate', 'camera_state').slice(before);
      return (s.at(-1)?.data as { state: string } | undefined)?.state === 'online';
    }, 60_000);
    await until(
      async () => readdirSync(join(recordings, 'cam-gate'), { recursive: true }).length > segsBefore,
      30_000,
    );
  }, 120_000);
});
