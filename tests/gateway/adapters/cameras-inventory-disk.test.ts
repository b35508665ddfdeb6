/**
 * The camera entries of the gateway's inventory carry the free and total bytes
 * of the recordings volume, and they pass the protocol's camera report schema.
 * In-process, without ffmpeg: the camera is an ONVIF camera at a closed port.
 */
import { mkdirSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CameraModule } from '../../../gateway/adapters/cameras.js';
import { CamerasConfig } from '../../../gateway/config.js';
import { Outbox } from '../../../gateway/outbox.js';
import { validateConfig } from '../../../lib/config.js';
import { Metrics } from '../../../lib/metrics.js';
import { freePort, tempDir } from '../../../lib/testkit/procs.js';
import { isCameraReport } from '../../../protocol/index.js';
import { openDatabase } from '../../../storage/sqlite/open.js';

const dir = tempDir('cw-cam-disk-');
const db = openDatabase(':memory:');
let cams: CameraModule | undefined;

afterAll(async () => {
  await cams?.stop();
  db.close();
  dir.cleanup();
});

describe('camera inventory', () => {
  it('reports the recordings volume with every camera', async () => {
    const recordings = join(dir.path, 'rec');
    mkdirSync(recordings, { recursive: true });
    const config = validateConfig(
      CamerasConfig,
      {
        recordingsDir: recordings,
        devices: [
          { deviceId: 'cam-1', zone: 'entrance', onvif: { host: '127.0.0.1', port: await freePort() } },
          { deviceId: 'cam-2', zone: 'canteen', onvif: { host: '127.0.0.1', port: await freePort() } },
        ],
      },
      'site.yaml',
    );
    cams = new CameraModule({
      config,
      db,
      outbox: new Outbox(db, 'site-a', () => false),
      metrics: new Metrics(),
      changed: () => undefined,
    });
    await cams.start();
    const inv = cams.inventory();
    const s = statfsSync(recordings);
    expect(inv).toHaveLength(2);
    for (const c of inv) {
      expect(isCameraReport(c), JSON.stringify(c)).toBe(true);
      expect(c.diskTotalBytes).toBe(s.blocks * s.bsize);
      expect(c.diskFreeBytes).toBeGreaterThanOrEqual(0);
      expect(c.diskFreeBytes).toBeLessThanOrEqual(c.diskTotalBytes!);
    }
  }, 30_000);
});
