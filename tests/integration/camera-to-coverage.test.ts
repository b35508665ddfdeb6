import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ffmpegAvailable,
  freeUdpPort,
  probe,
  type Source,
  startUdpSource,
} from '../gateway/recorder/media.js';
import { type Proc, requireBuild, tempDir, until } from '../helpers/procs.js';
import { api, login, type Setup, setupSite, startCentral, startGateway } from '../helpers/site.js';

/**
 * A live stream recorded by the gateway's ffmpeg, reported in the inventory,
 * judged by the central for coverage of the required zones.
 */
describe('camera recording → inventory → coverage at the central, as separate processes', () => {
  const dir = tempDir('cw-cam-e2e-');
  let s: Setup;
  let central: Proc;
  let gateway: Proc;
  let source: Source;
  const recordings = join(dir.path, 'recordings');

  beforeAll(async () => {
    requireBuild();
    expect(ffmpegAvailable(), 'ffmpeg is installed by .ci/run').toBe(true);
    const port = await freeUdpPort();
    source = startUdpSource(port);
    s = await setupSite(dir.path, {
      extra: {
        cameras: {
          recordingsDir: recordings,
          retentionDays: 30,
          segmentSeconds: 1,
          devices: [{ deviceId: 'cam-ent', zone: 'entrance', streamUrl: `udp://127.0.0.1:${port}` }],
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
    await source?.stop();
    dir.cleanup();
  });

  it('records playable segments and shows the entrance camera recording but not yet holding 30 days', async () => {
    const token = await login(s);
    type Cov = {
      sites: Array<{
        zones: Array<{
          zone: string;
          ok: boolean;
          code: string;
          cameras: Array<{ deviceId: string; recording: boolean }>;
        }>;
      }>;
    };
    const entrance = await until(async () => {
      const r = await api<Cov>(s, token, '/api/coverage');
      const z = r.body.sites[0]?.zones.find((x) => x.zone === 'entrance');
      return z?.cameras[0]?.recording ? z : undefined;
    }, 40_000);
    expect(entrance).toMatchObject({ ok: false, code: 'retention_short' });
    const days = readdirSync(join(recordings, 'cam-ent')).filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d));
    const files = readdirSync(join(recordings, 'cam-ent', days[0]!)).filter((f) => f.endsWith('.mp4'));
    expect(files.length).toBeGreaterThan(0);
    expect(probe(join(recordings, 'cam-ent', days[0]!, files[0]!))?.packets ?? 0).toBeGreaterThan(0);

    // the regulations' floor: a retention policy below 30 days is refused by the gateway
    const cmd = await api<{
      command: { status: string; reply: { error?: { code: string; message: string } } };
    }>(s, token, '/api/sites/site-a/commands/retention_policy', {
      method: 'POST',
      body: JSON.stringify({ args: { days: 7 } }),
    });
    expect(cmd.body.command.status).toBe('failed');
    expect(cmd.body.command.reply.error?.code).toBe('RETENTION_BELOW_FLOOR');
    expect(cmd.body.command.reply.error?.message).toContain('30');
  }, 60_000);
});
