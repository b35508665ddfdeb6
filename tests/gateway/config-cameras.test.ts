/**
 * Camera sources in site.yaml, validated through lib/config.ts: a camera is a
 * fixed `streamUrl` or an `onvif:` camera, exactly one of them; the error names
 * the camera's path. Per-camera retentionDays and the degradation block are
 * checked by the schema and by checkCamerasConfig (what the camera module runs at start).
 */
import { describe, expect, it } from 'vitest';
import { CameraModule } from '../../gateway/adapters/cameras.js';
import { checkCamerasConfig, GatewayConfig } from '../../gateway/config.js';
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

const GiB = 1024 ** 3;
const cams = [
  { deviceId: 'cam-1', zone: 'entrance', streamUrl: 'rtsp://192.0.2.10/s1', retentionDays: 45 },
  {
    deviceId: 'cam-2',
    zone: 'canteen',
    streamUrl: 'rtsp://192.0.2.11/s1',
    substreamUrl: 'rtsp://192.0.2.11/s2',
  },
];
/** Schema, then the checks the schema cannot express (what the camera module runs at start). */
const retention = (cameras: Record<string, unknown>) => {
  const cfg = validateConfig(
    GatewayConfig,
    { ...base, cameras: { recordingsDir: '/tmp/rec', devices: cams, ...cameras } },
    'site.yaml',
  );
  return { cfg, days: checkCamerasConfig(cfg.cameras!, 'site.yaml') };
};
const refusal = (cameras: Record<string, unknown>) => {
  try {
    retention(cameras);
  } catch (err) {
    return err as ConfigError;
  }
  throw new Error('accepted');
};

describe('camera retention and degradation config', () => {
  it('accepts per-camera days above the site and a full degradation block', () => {
    const { cfg, days } = retention({
      retentionDays: 30,
      degradation: {
        mode: 'reduce_to_substream',
        priority: ['cam-1', 'cam-2'],
        reserveBytes: 2 * GiB,
        resumeBytes: 4 * GiB,
        marginDays: 5,
      },
    });
    expect(days).toEqual({ 'cam-1': 45 });
    expect(cfg.cameras?.devices[1]?.retentionDays).toBeUndefined();
    expect(cfg.cameras?.degradation).toEqual({
      mode: 'reduce_to_substream',
      priority: ['cam-1', 'cam-2'],
      reserveBytes: 2 * GiB,
      resumeBytes: 4 * GiB,
      marginDays: 5,
    });
    // no block: the sweeper's defaults apply (nothing filled in)
    expect(retention({}).cfg.cameras?.degradation).toBeUndefined();
  });

  it('refuses a camera below 30 days with RETENTION_BELOW_FLOOR, naming the camera path', () => {
    const err = refusal({
      devices: [cams[0], { ...cams[1], retentionDays: 20 }],
    });
    expect(err.code).toBe('RETENTION_BELOW_FLOOR');
    expect(err.message).toMatch(
      /^site\.yaml: \/cameras\/devices\/1\/retentionDays \(cam-2\): retention of 20 days refused: .*at least 30 days/,
    );
    // the site's value is refused the same way
    const site = refusal({ retentionDays: 29, devices: [cams[1]] });
    expect(site.code).toBe('RETENTION_BELOW_FLOOR');
    expect(site.message).toContain('site.yaml: /cameras/retentionDays: retention of 29 days refused');
  });

  it('refuses a camera below the site days: a camera may only raise its own', () => {
    const err = refusal({ retentionDays: 60 });
    expect(err.code).toBe('RETENTION_INVALID');
    expect(err.message).toContain(
      "site.yaml: /cameras/devices/0/retentionDays (cam-1): 45 days is below the site's retentionDays (60)",
    );
    expect(retention({ retentionDays: 45 }).days).toEqual({ 'cam-1': 45 });
  });

  it('refuses bad degradation values with their path and the reason', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ mode: 'delete_oldest' }, '/cameras/degradation/mode: must be equal to constant'],
      [{ reserveBytes: 1000 }, '/cameras/degradation/reserveBytes: must be >= 67108864'],
      [{ reserveBytes: '2G' }, '/cameras/degradation/reserveBytes: must be integer'],
      [{ marginDays: -1 }, '/cameras/degradation/marginDays: must be >= 0'],
      [{ marginDays: 1.5 }, '/cameras/degradation/marginDays: must be integer'],
      [{ priority: ['cam-1', 'cam-1'] }, '/cameras/degradation/priority: must NOT have duplicate items'],
      [{ reserve: GiB }, "/cameras/degradation: must NOT have additional properties 'reserve'"],
      [
        { resumeBytes: 4 * GiB },
        '/cameras/degradation: must have property reserveBytes when property resumeBytes is present',
      ],
      [
        { priority: ['cam-1', 'cam-9'] },
        'site.yaml: /cameras/degradation/priority/1: "cam-9" is not a configured camera',
      ],
      [
        { reserveBytes: 4 * GiB, resumeBytes: 2 * GiB },
        `site.yaml: /cameras/degradation/resumeBytes: must be above reserveBytes (${4 * GiB}), got ${2 * GiB}`,
      ],
    ];
    for (const [degradation, message] of cases) {
      const err = refusal({ degradation });
      expect(err, JSON.stringify(degradation)).toBeInstanceOf(ConfigError);
      expect(err.message, JSON.stringify(degradation)).toContain(message);
    }
  });

  it('the camera module refuses to start with a camera below 30 days', async () => {
    const cfg = validateConfig(
      GatewayConfig,
      { ...base, cameras: { recordingsDir: '/tmp/rec', devices: [{ ...cams[1], retentionDays: 20 }] } },
      'site.yaml',
    );
    const db = openDatabase(':memory:');
    try {
      const mod = new CameraModule({
        config: cfg.cameras!,
        db,
        outbox: new Outbox(db, 's', () => false),
        metrics: new Metrics(),
        changed: () => undefined,
      });
      await expect(mod.start()).rejects.toMatchObject({
        code: 'RETENTION_BELOW_FLOOR',
        message: expect.stringContaining(
          '/cameras/devices/0/retentionDays (cam-2): retention of 20 days refused',
        ),
      });
    } finally {
      db.close();
    }
  });
});
