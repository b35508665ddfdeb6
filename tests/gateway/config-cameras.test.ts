/**
 * Camera sources in site.yaml, validated through lib/config.ts: a camera is a
 * fixed `streamUrl` or an `onvif:` camera, exactly one of them; the error names
 * the camera's path.
 */
import { describe, expect, it } from 'vitest';
import { CameraModule } from '../../gateway/adapters/cameras.js';
import { GatewayConfig } from '../../gateway/config.js';
import { Outbox } from '../../gateway/outbox.js';
import { validateConfig } from '../../lib/config.js';
import { ConfigError } from '../../lib/errors.js';
import { Metrics } from '../../lib/metrics.js';
import { openDatabase } from '../../storage/sqlite/open.js';

const base = { siteId: 's', gatewayId: 'gw', dataDir: '/tmp/x', central: { url: 'mqtt://127.0.0.1:1' } };
const withCameras = (devices: unknown[]) => ({ ...base, cameras: { recordingsDir: '/tmp/rec', devices } });
const check = (devices: unknown[]) => validateConfig(GatewayConfig, withCameras(devices), 'site.yaml');
const errorOf = (devices: unknown[]) => {
  try {
    check(devices);
  } catch (err) {
    return err as ConfigError;
  }
  throw new Error('accepted');
};

describe('camera sources', () => {
  it('accepts an onvif camera and fills its defaults', () => {
    const cfg = check([
      { deviceId: 'cam-1', zone: 'entrance', onvif: { host: '192.0.2.10', username: 'u', password: 'p' } },
      { deviceId: 'cam-2', zone: 'canteen', streamUrl: 'rtsp://192.0.2.11/s1' },
    ]);
    expect(cfg.cameras?.devices[0]?.onvif).toEqual({
      host: '192.0.2.10',
      port: 80,
      username: 'u',
      password: 'p',
    });
    expect(cfg.cameras?.devices[1]?.streamUrl).toBe('rtsp://192.0.2.11/s1');
  });

  it('refuses a camera with both streamUrl and onvif, naming the camera', () => {
    const err = errorOf([
      { deviceId: 'cam-1', zone: 'entrance', streamUrl: 'rtsp://x', onvif: { host: 'h' } },
    ]);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe('site.yaml: /cameras/devices/0: must match exactly one schema in oneOf');
  });

  it('refuses a camera with neither, saying which fields are possible', () => {
    const err = errorOf([
      { deviceId: 'cam-1', zone: 'entrance', streamUrl: 'rtsp://x' },
      { deviceId: 'cam-2', zone: 'entrance' },
    ]);
    expect(err.message).toContain("site.yaml: /cameras/devices/1: must have required property 'streamUrl'");
    expect(err.message).toContain("/cameras/devices/1: must have required property 'onvif'");
    expect(err.message).not.toContain('/cameras/devices/0');
  });

  it('refuses bad onvif fields with their path', () => {
    const err = errorOf([
      { deviceId: 'c', zone: 'entrance', onvif: { host: 'h', port: 70000, profil: 'x' } },
    ]);
    expect(err.message).toContain('/cameras/devices/0/onvif/port: must be <= 65535');
    expect(err.message).toContain("/cameras/devices/0/onvif: must NOT have additional properties 'profil'");
  });
  it('the camera module refuses a device id used by a streamUrl and an onvif camera', async () => {
    const cfg = check([
      { deviceId: 'cam-1', zone: 'entrance', streamUrl: 'rtsp://127.0.0.1:9/x' },
      { deviceId: 'cam-1', zone: 'canteen', onvif: { host: '127.0.0.1', port: 9 } },
    ]);
    const db = openDatabase(':memory:');
    try {
      const mod = new CameraModule({
        config: cfg.cameras!,
        db,
        outbox: new Outbox(db, 's', () => false),
        metrics: new Metrics(),
        changed: () => undefined,
      });
      await expect(mod.start()).rejects.toThrow('cameras: camera cam-1 configured twice');
    } finally {
      db.close();
    }
  });
});
