/**
 * The gateway's ONVIF wrapper against the camera simulator over loopback, with
 * the real `onvif` client: resolution (profile, RTSP URI with credentials,
 * snapshot URI, device information) and each failure classified.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  classifyOnvifError,
  maskCredentials,
  OnvifError,
  type OnvifProfile,
} from '../../../../gateway/adapters/onvif/client.js';
import {
  chooseProfile,
  resolveOnvifCamera,
  withCredentials,
} from '../../../../gateway/adapters/onvif/resolve.js';
import { liveFfmpegCount } from '../../../../simulators/onvif/ffmpeg.js';
import { type Fleet, startFleet } from '../../../../simulators/onvif/fleet.js';

const PASSWORD = 'pa:ss@w/rd 1';
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({
    cameras: [{ name: 'gate', zone: 'entrance', username: 'operator', password: PASSWORD }],
    rtspPort: 0,
    discovery: false,
    bitrateKbps: 500,
    fps: 5,
  });
}, 30_000);

afterAll(async () => {
  await fleet?.stop();
  expect(liveFfmpegCount()).toBe(0);
});

const cam = () => fleet.cameras[0]!;
const source = (over: Record<string, unknown> = {}) => ({
  host: '127.0.0.1',
  port: cam().httpPort,
  username: 'operator',
  password: PASSWORD,
  timeoutMs: 3000,
  ...over,
});

const profile = (token: string, encoding: string | undefined, name = token): OnvifProfile => ({
  token,
  name,
  encoding,
  width: 640,
  height: 360,
});

describe('profile choice and stream URL', () => {
  it('takes the first H.264 profile, or the configured one by token or name', () => {
    const ps = [profile('p0', 'JPEG'), profile('p1', 'H264', 'main'), profile('p2', 'H264', 'sub')];
    expect(chooseProfile(ps, undefined).token).toBe('p1');
    expect(chooseProfile(ps, 'p2').token).toBe('p2');
    expect(chooseProfile(ps, 'sub').token).toBe('p2');
    expect(() => chooseProfile(ps, 'nope')).toThrow(/not offered \(have: p0, p1, p2\)/);
    expect(() => chooseProfile(ps, 'p0')).toThrow(/JPEG, not H.264/);
    const err = (() => {
      try {
        chooseProfile([profile('a', 'JPEG'), profile('b', 'H265')], undefined);
      } catch (e) {
        return e as OnvifError;
      }
    })();
    expect(err).toBeInstanceOf(OnvifError);
    expect(err?.reason).toBe('no_h264');
    expect(err?.message).toContain('JPEG, H265');
  });

  it('puts the credentials into the RTSP URL, escaped, unless it has some', () => {
    expect(withCredentials('rtsp://10.0.0.5:554/s1', 'op', 'p@ss:w/d')).toBe(
      'rtsp://op:p%40ss%3Aw%2Fd@10.0.0.5:554/s1',
    );
    expect(withCredentials('rtsp://a:b@10.0.0.5/s1', 'op', 'x')).toBe('rtsp://a:b@10.0.0.5/s1');
    expect(withCredentials('rtsp://10.0.0.5/s1')).toBe('rtsp://10.0.0.5/s1');
  });

  it('masks credentials in texts and classifies client errors', () => {
    expect(maskCredentials('rtsp://op:secret@127.0.0.1:8554/x: 404 Not Found')).toBe(
      'rtsp://***@127.0.0.1:8554/x: 404 Not Found',
    );
    expect(classifyOnvifError(new Error('Sender not Authorized'))).toBe('auth');
    expect(classifyOnvifError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('unreachable');
    expect(classifyOnvifError(new Error('Wrong ONVIF SOAP response'))).toBe('malformed');
    expect(classifyOnvifError(new Error('Network timeout'))).toBe('timeout');
  });
});

describe('resolution against the simulated camera', () => {
  it('resolves the RTSP stream (with credentials), snapshot URI and device information', async () => {
    const r = await resolveOnvifCamera('cam-gate', source());
    try {
      expect(r.profile.encoding).toBe('H264');
      const url = new URL(r.camera.streamUrl);
      expect(decodeURIComponent(url.username)).toBe('operator');
      expect(decodeURIComponent(url.password)).toBe(PASSWORD);
      url.username = '';
      url.password = '';
      expect(url.toString()).toBe(cam().streamUrl);
      expect(r.camera).toMatchObject({
        cameraId: 'cam-gate',
        snapshotUri: cam().snapshotUrl,
        username: 'operator',
        password: PASSWORD,
      });
      expect(r.device).toMatchObject({ manufacturer: 'Carewatch Simulator', model: 'SIM-IPC-H264' });
      expect(r.device.firmwareVersion).toBe('1.0.0');
      expect(r.session.hasEvents).toBe(true);
    } finally {
      r.session.close();
    }
  });

  it('wrong password → auth; the message holds no password', async () => {
    const err = await resolveOnvifCamera('cam-gate', source({ password: 'wrong-secret' })).catch((e) => e);
    expect(err).toBeInstanceOf(OnvifError);
    expect(err.reason).toBe('auth');
    expect(err.message).not.toContain('wrong-secret');
  });

  it('a profile the camera lacks → profile_not_found', async () => {
    const err = await resolveOnvifCamera('cam-gate', source({ profile: 'nope' })).catch((e) => e);
    expect(err.reason).toBe('profile_not_found');
  });

  it('malformed SOAP → malformed, during connect or on GetStreamUri', async () => {
    cam().setFaults({ malformedSoap: true });
    try {
      const err = await resolveOnvifCamera('cam-gate', source()).catch((e) => e);
      expect(err).toBeInstanceOf(OnvifError);
      expect(err.reason).toBe('malformed');
      cam().setFaults({ malformedSoap: ['GetStreamUri'] });
      const err2 = await resolveOnvifCamera('cam-gate', source()).catch((e) => e);
      expect(err2.reason).toBe('malformed');
    } finally {
      cam().clearFaults();
    }
  });

  it('nobody listening → unreachable', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const err = await resolveOnvifCamera('cam-x', source({ port })).catch((e) => e);
    expect(err.reason).toBe('unreachable');
  });
});
