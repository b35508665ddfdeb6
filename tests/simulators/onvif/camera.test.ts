/**
 * One simulated camera against the real `onvif` client (agsh), real ffmpeg and
 * real sockets on 127.0.0.1: device information, profiles, stream and snapshot
 * URIs, WS-UsernameToken refusal, snapshot JPEG, PullPoint events, faults.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { liveFfmpegCount } from '../../../simulators/onvif/ffmpeg.js';
import { type Fleet, startFleet } from '../../../simulators/onvif/fleet.js';
import { until } from '../rtsp/client.js';
import { call, connectCam, ffprobe, type Xml } from './helpers.js';

const PASSWORD = 'Care-w@tch 1';
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({
    cameras: [{ name: 'Front Door', zone: 'entrance', username: 'operator', password: PASSWORD }],
    rtspPort: 0,
    discovery: false,
    bitrateKbps: 1000,
  });
}, 30_000);

afterAll(async () => {
  await fleet?.stop();
  expect(liveFfmpegCount()).toBe(0);
});

const cam = () => fleet.cameras[0]!;
const connect = (password = PASSWORD, username = 'operator') =>
  connectCam({ hostname: '127.0.0.1', port: cam().httpPort, username, password });

describe('ONVIF services with the onvif client', () => {
  test('device information, scopes, profiles, stream and snapshot URIs', async () => {
    const client = await connect();
    const info = await call(client, 'getDeviceInformation');
    expect(info).toMatchObject({ manufacturer: 'Carewatch Simulator', model: 'SIM-IPC-H264' });
    const scopes = await call<Array<{ scopeItem: string }>>(client, 'getScopes');
    const items = scopes.map((s) => s.scopeItem);
    expect(items).toContain('onvif://www.onvif.org/name/Front%20Door');
    expect(items).toContain('onvif://www.onvif.org/location/entrance');
    const profiles = await call<Xml[]>(client, 'getProfiles');
    expect(profiles).toHaveLength(1);
    expect(profiles[0].videoEncoderConfiguration).toMatchObject({
      encoding: 'H264',
      resolution: { width: 640, height: 360 },
    });
    expect(client.activeSource).toMatchObject({ encoding: 'H264', width: 640, height: 360, fps: 15 });
    const stream = await call<{ uri: string }>(client, 'getStreamUri', { protocol: 'RTSP' });
    expect(stream.uri).toBe(cam().streamUrl);
    expect(stream.uri).toMatch(/^rtsp:\/\/127\.0\.0\.1:\d+\/Front_Door$/);
    const snap = await call<{ uri: string }>(client, 'getSnapshotUri');
    expect(snap.uri).toBe(`http://127.0.0.1:${cam().httpPort}/snapshot.jpg`);
    const date = await call<Date>(client, 'getSystemDateAndTime');
    expect(Math.abs(date.getTime() - Date.now())).toBeLessThan(5000);
  });

  test('a wrong password or user is refused with ter:NotAuthorized', async () => {
    await expect(connect('wrong')).rejects.toThrow(/Sender not Authorized/);
    await expect(connect(PASSWORD, 'admin')).rejects.toThrow(/Sender not Authorized/);
    // Without credentials only the pre-auth operations answer.
    const anon = await connectCam({ hostname: '127.0.0.1', port: cam().httpPort });
    await expect(call(anon, 'getDeviceInformation')).rejects.toThrow(/Sender not Authorized/);
  });

  test('the snapshot is a JPEG that ffprobe reads as mjpeg at the stream size', async () => {
    const res = await fetch(cam().snapshotUrl, { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const jpeg = Buffer.from(await res.arrayBuffer());
    expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(jpeg.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
    const probed = await ffprobe(cam().snapshotUrl);
    expect(probed.streams[0]).toMatchObject({ codec_name: 'mjpeg', width: 640, height: 360 });
  });

  test('PullPoint events: motion and tampering, as the client parses them', async () => {
    const client = await connect();
    await call(client, 'createPullPointSubscription');
    const initial = await call<Xml>(client, 'pullMessages', { messageLimit: 10 });
    const topics = (m: Xml) =>
      [m.notificationMessage]
        .flat()
        .filter(Boolean)
        .map((n: Xml) => n.topic._);
    expect(topics(initial)).toEqual([
      'tns1:VideoSource/MotionAlarm',
      'tns1:VideoSource/GlobalSceneChange/ImagingService',
    ]);

    const pending = call<Xml>(client, 'pullMessages', { messageLimit: 10 });
    setTimeout(() => cam().triggerMotion(true), 100);
    const motion = await pending;
    expect(topics(motion)).toEqual(['tns1:VideoSource/MotionAlarm']);
    const msg = motion.notificationMessage.message.message;
    expect(msg.$.PropertyOperation).toBe('Changed');
    expect(msg.data.simpleItem.$).toEqual({ Name: 'State', Value: true });

    cam().triggerTamper(true);
    cam().triggerMotion(false);
    const more = await call<Xml>(client, 'pullMessages', { messageLimit: 10 });
    expect(topics(more)).toEqual([
      'tns1:VideoSource/GlobalSceneChange/ImagingService',
      'tns1:VideoSource/MotionAlarm',
    ]);
    expect(more.terminationTime.getTime()).toBeGreaterThan(Date.now());
    await call(client, 'renew', {});
    await call(client, 'unsubscribe');
    expect(cam().events.subscriptionCount).toBe(0);
  });
  test('the client event loop (cam.on("event")) receives a motion alarm', async () => {
    const client = await connect();
    const seen: Xml[] = [];
    const got = new Promise<void>((resolve) => {
      client.on('event', (m: Xml) => {
        seen.push(m);
        if (m.message.message.$.PropertyOperation === 'Changed') resolve();
      });
    });
    await until(() => cam().events.subscriptionCount === 1);
    cam().triggerMotion(true);
    await got;
    const changed = seen.find((m) => m.message.message.$.PropertyOperation === 'Changed');
    expect(changed.topic._).toBe('tns1:VideoSource/MotionAlarm');
    // Stop the client's loop: no listener, then release its held pull.
    client.removeAllListeners('event');
    cam().triggerMotion(false);
    await until(() => cam().events.subscriptionCount === 0);
  });
});

describe('fault injection', () => {
  test('malformed SOAP responses make the client fail; clearing restores it', async () => {
    const client = await connect();
    cam().setFaults({ malformedSoap: ['GetDeviceInformation'] });
    try {
      await expect(call(client, 'getDeviceInformation')).rejects.toThrow();
      await expect(call(client, 'getScopes')).resolves.toBeDefined();
      cam().setFaults({ malformedSoap: true });
      await expect(connect()).rejects.toThrow();
    } finally {
      cam().clearFaults();
    }
    await expect(call(client, 'getDeviceInformation')).resolves.toMatchObject({ model: 'SIM-IPC-H264' });
  });

  test('credentials refused (password changed on the device)', async () => {
    cam().setFaults({ rejectAuth: true });
    try {
      await expect(connect()).rejects.toThrow(/Sender not Authorized/);
    } finally {
      cam().clearFaults();
    }
    await expect(connect()).resolves.toBeDefined();
  });

  test('no stream: RTSP answers 503 while ONVIF still works; the stream comes back', async () => {
    await cam().stopStream();
    expect(cam().publisherPid).toBeUndefined();
    await expect(ffprobe(cam().streamUrl, ['-rtsp_transport', 'tcp'])).rejects.toThrow(/503/);
    await expect(connect()).resolves.toBeDefined();
    await cam().startStream();
    await cam().waitForStream(10_000);
    const probed = await ffprobe(cam().streamUrl, ['-rtsp_transport', 'tcp']);
    expect(probed.streams[0]).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });
  });

  test('the publisher is restarted when its RTSP connection is cut', async () => {
    const before = cam().publisherPid;
    fleet.rtsp.kick(cam().streamPath);
    expect(fleet.rtsp.isPublishing(cam().streamPath)).toBe(false);
    await until(() => fleet.rtsp.isPublishing(cam().streamPath), 10_000);
    expect(cam().publisherPid).not.toBe(before);
  });

  test('offline: HTTP refused and RTSP unavailable; back online on the same port', async () => {
    const port = cam().httpPort;
    await cam().goOffline();
    expect(cam().online).toBe(false);
    await expect(connect()).rejects.toThrow(/ECONNREFUSED/);
    await expect(ffprobe(cam().streamUrl, ['-rtsp_transport', 'tcp'])).rejects.toThrow(/503/);
    await cam().goOnline();
    expect(cam().httpPort).toBe(port);
    await cam().waitForStream(10_000);
    const client = await connect();
    expect(await call(client, 'getDeviceInformation')).toMatchObject({ model: 'SIM-IPC-H264' });
  });
});
