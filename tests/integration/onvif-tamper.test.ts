/**
 * End to end, as separate processes over loopback: a simulated ONVIF camera,
 * a gateway (`carewatch gateway`) configured with an `onvif:` camera, and the
 * central. The gateway records the camera's stream; tampering raised on the
 * camera travels PullPoint → outbox → MQTT → central and opens a
 * `camera_tamper` warning, which the camera's own restore resolves.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveFfmpegCount } from '../../simulators/onvif/ffmpeg.js';
import { type Fleet, startFleet } from '../../simulators/onvif/fleet.js';
import { ffmpegAvailable } from '../gateway/recorder/media.js';
import { type Proc, requireBuild, tempDir, until } from '../helpers/procs.js';
import { api, login, type Setup, setupSite, startCentral, startGateway } from '../helpers/site.js';

type Alert = { id: string; source: string; type: string; severity: string; state: string };

describe('ONVIF camera tamper → camera_tamper alert at the central', () => {
  const dir = tempDir('cw-onvif-e2e-');
  const recordings = join(dir.path, 'recordings');
  let fleet: Fleet;
  let s: Setup;
  let central: Proc;
  let gateway: Proc;

  beforeAll(async () => {
    requireBuild();
    expect(ffmpegAvailable(), 'ffmpeg is installed by .ci/run').toBe(true);
    fleet = await startFleet({
      cameras: [{ name: 'front', zone: 'entrance', username: 'operator', password: 'e2e-secret' }],
      rtspPort: 0,
      discovery: false,
      bitrateKbps: 400,
      fps: 10,
    });
    s = await setupSite(dir.path, {
      mediaUpload: true,
      extra: {
        cameras: {
          recordingsDir: recordings,
          segmentSeconds: 1,
          devices: [
            {
              deviceId: 'cam-front',
              zone: 'entrance',
              onvif: {
                host: '127.0.0.1',
                port: fleet.cameras[0]!.httpPort,
                username: 'operator',
                password: 'e2e-secret',
              },
            },
          ],
        },
      },
    });
    central = await startCentral(s);
    gateway = await startGateway(s);
    await gateway.waitFor(/connected to central/);
  }, 60_000);

  afterAll(async () => {
    await gateway?.kill();
    await central?.kill();
    await fleet?.stop();
    dir.cleanup();
    expect(liveFfmpegCount()).toBe(0);
  }, 30_000);

  it('records the stream the gateway resolved over ONVIF', async () => {
    const files = await until(async () => {
      const root = join(recordings, 'cam-front');
      const all = readdirSync(root, { recursive: true }).map(String);
      const mp4 = all.filter((f) => f.endsWith('.mp4') && !f.startsWith('incoming'));
      return mp4.length > 0 ? mp4 : undefined;
    }, 30_000);
    expect(files.length).toBeGreaterThan(0);
    expect(gateway.output()).not.toContain('e2e-secret');
    // the camera password reaches ffmpeg in a file only the gateway's user reads, not on its
    // command line (world-readable in /proc)
    const incoming = join(recordings, 'cam-front', 'incoming');
    const pid = Number(readFileSync(join(incoming, 'ffmpeg.pid'), 'utf8'));
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(argv.join(' ')).not.toContain('e2e-secret');
    expect(argv).toContain('concat');
    const script = argv[argv.indexOf('-i') + 1]!;
    expect(script).toMatch(/\.ffconcat$/);
    expect(statSync(script).mode & 0o077).toBe(0);
    expect(readFileSync(script, 'utf8')).toContain(':e2e-secret@');
  }, 40_000);

  it('tamper opens a camera_tamper warning; the restore resolves it; motion opens nothing', async () => {
    const cam = fleet.cameras[0]!;
    await until(async () => cam.events.subscriptionCount > 0, 20_000);
    const token = await login(s);
    const alerts = async () =>
      (await api<{ alerts: Alert[] }>(s, token, '/api/alerts?limit=100')).body.alerts.filter(
        (a) => a.source === 'cam-front',
      );
    cam.triggerMotion(true);
    cam.triggerTamper(true);
    const open = await until(async () => (await alerts()).find((a) => a.type === 'camera_tamper'), 20_000);
    expect(open).toMatchObject({ severity: 'warning', state: 'open' });
    cam.triggerTamper(false);
    await until(async () => (await alerts()).find((a) => a.id === open.id && a.state === 'resolved'), 20_000);
    // Motion was carried as an event (stored at the central), not as an alert.
    expect((await alerts()).map((a) => a.type)).not.toContain('motion');
    const events = await api<{ events: Array<{ kind: string; deviceId: string; data: unknown }> }>(
      s,
      token,
      '/api/events?limit=200&kind=camera_event',
    );
    const camEvents = events.body.events.filter(
      (e) => e.kind === 'camera_event' && e.deviceId === 'cam-front',
    );
    expect(camEvents.map((e) => e.data)).toEqual(
      expect.arrayContaining([
        { event: 'motion', active: true },
        { event: 'tamper', active: true },
        { event: 'tamper', active: false },
      ]),
    );
  }, 60_000);
  it("takes a snapshot from the camera's ONVIF snapshot URI and stores it at the central", async () => {
    const token = await login(s);
    const r = await api<{
      command: { status: string; reply: { result?: { mediaId: string; from: string; bytes: number } } };
    }>(s, token, '/api/sites/site-a/commands/snapshot', {
      method: 'POST',
      body: JSON.stringify({ args: { cameraId: 'cam-front' }, timeoutS: 40 }),
    });
    expect(r.body.command.status, JSON.stringify(r.body)).toBe('ok');
    const result = r.body.command.reply.result!;
    expect(result.from).toBe('snapshot_uri');
    const media = await api<{ media: Array<{ id: string; kind: string; url: string; bytes: number }> }>(
      s,
      token,
      '/api/sites/site-a/cameras/cam-front/media',
    );
    const snap = media.body.media.find((m) => m.id === result.mediaId);
    expect(snap).toMatchObject({ kind: 'snapshot', bytes: result.bytes });
    const jpeg = Buffer.from(
      await (
        await fetch(`${s.base}${snap!.url}`, { headers: { authorization: `Bearer ${token}` } })
      ).arrayBuffer(),
    );
    expect([jpeg[0], jpeg[1]]).toEqual([0xff, 0xd8]);
    expect(gateway.output()).not.toContain('e2e-secret');
  }, 60_000);
});
