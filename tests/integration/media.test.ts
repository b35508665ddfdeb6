import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, provisionGateway } from '../../cli/provision.js';
import { Button } from '../../lib/testkit/faults.js';
import {
  ffmpegAvailable,
  freeUdpPort,
  probe,
  type Source,
  startUdpSource,
} from '../gateway/recorder/media.js';
import { type Proc, requireBuild, tempDir, until } from '../helpers/procs.js';
import { api, login, type Setup, setupSite, startCentral, startGateway } from '../helpers/site.js';

type Media = {
  id: string;
  kind: string;
  cameraId: string;
  eventId: string | null;
  eventKind: string | null;
  from: string;
  to: string;
  bytes: number;
  url: string;
};

/**
 * Footage stays at the site; clips and snapshots travel. A call pressed on a
 * button a camera covers gets a clip cut by the gateway from its segments,
 * uploaded to the central and linked to the call's alert; recordings are
 * listed, snapshots and clips asked for, files served with ranges, and every
 * look is in the access log. Separate processes, real ffmpeg, real HTTP.
 */
describe('event clips, snapshots, recordings and the access log, over processes', () => {
  const dir = tempDir('cw-media-e2e-');
  let s: Setup;
  let central: Proc;
  let gateway: Proc;
  let source: Source;
  let admin: string;
  const button = { current: undefined as Button | undefined };

  beforeAll(async () => {
    requireBuild();
    expect(ffmpegAvailable(), 'ffmpeg is installed by .ci/run').toBe(true);
    const port = await freeUdpPort();
    source = startUdpSource(port);
    s = await setupSite(dir.path, {
      mediaUpload: true,
      extra: {
        cameras: {
          recordingsDir: join(dir.path, 'recordings'),
          segmentSeconds: 1,
          clips: { beforeS: 2, afterS: 2 },
          devices: [
            {
              deviceId: 'cam-cor',
              zone: 'corridor',
              streamUrl: `udp://127.0.0.1:${port}`,
              covers: ['btn-1'],
            },
          ],
        },
      },
    });
    await addUser({
      dataDir: s.centralDir,
      username: 'staff-a',
      role: 'institution_staff',
      sites: 'site-a',
      password: 'staff-a-password',
    });
    await addUser({
      dataDir: s.centralDir,
      username: 'head-b',
      role: 'institution_head',
      sites: 'site-b',
      password: 'head-b-password',
    });
    central = await startCentral(s);
    gateway = await startGateway(s);
    await gateway.waitFor(/connected to central/);
    admin = await login(s);
    // a few seconds of footage before the call
    await until(async () => {
      const r = await api<{ spans: unknown[] }>(
        s,
        admin,
        `/api/sites/site-a/cameras/cam-cor/recordings?from=${new Date(Date.now() - 60_000).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`,
      );
      return r.status === 200 && r.body.spans.length > 0 ? true : undefined;
    }, 40_000);
    await new Promise((r) => setTimeout(r, 3000));
  }, 90_000);

  afterAll(async () => {
    await button.current?.close();
    await gateway?.kill();
    await central?.kill();
    await source?.stop();
    dir.cleanup();
  });

  it('cuts a clip around a call of a covered button and links it to the call alert', async () => {
    button.current = new Button(s.busPort);
    await button.current.press('btn-1', 'single');
    type Alerts = { alerts: Array<{ id: string; type: string; source: string; eventId: string }> };
    const alert = await until(async () => {
      const r = await api<Alerts>(s, admin, '/api/alerts');
      return r.body.alerts.find((a) => a.source === 'btn-1');
    }, 20_000);
    const clip = await until(async () => {
      const r = await api<{ media: Media[] }>(s, admin, `/api/alerts/${alert.id}/media`);
      return r.body.media[0];
    }, 60_000);
    expect(clip).toMatchObject({
      kind: 'clip',
      cameraId: 'cam-cor',
      eventId: alert.eventId,
      eventKind: 'emergency_call',
    });
    // 2 s before and 2 s after the press, on keyframe and segment boundaries
    const span = Date.parse(clip.to) - Date.parse(clip.from);
    expect(span).toBeGreaterThan(2500);
    expect(span).toBeLessThanOrEqual(4000);

    // the file plays: downloaded whole, ffprobe reads video of about that length
    const r = await fetch(`${s.base}${clip.url}?download=1`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('video/mp4');
    expect(r.headers.get('content-disposition')).toContain('attachment');
    const bytes = Buffer.from(await r.arrayBuffer());
    expect(bytes.length).toBe(clip.bytes);
    const file = join(dir.path, 'clip.mp4');
    writeFileSync(file, bytes);
    const p = probe(file);
    expect(p?.packets ?? 0).toBeGreaterThan(10);
    expect(p!.duration).toBeGreaterThan(1.5);
    expect(p!.duration).toBeLessThan(6);

    // a player's range request gets exactly those bytes
    const part = await fetch(`${s.base}${clip.url}`, {
      headers: { authorization: `Bearer ${admin}`, range: 'bytes=100-199' },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${clip.bytes}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 200))).toBe(true);
    const beyond = await fetch(`${s.base}${clip.url}`, {
      headers: { authorization: `Bearer ${admin}`, range: `bytes=${clip.bytes + 10}-` },
    });
    expect(beyond.status).toBe(416);
  }, 120_000);

  it('lists recordings, takes a snapshot and cuts a requested clip', async () => {
    const to = new Date(Date.now() - 2000).toISOString();
    const from = new Date(Date.now() - 5000).toISOString();
    const rec = await api<{ spans: Array<{ from: string; to: string; segments: number }>; oldest: string }>(
      s,
      admin,
      `/api/sites/site-a/cameras/cam-cor/recordings?from=${new Date(Date.now() - 3_600_000).toISOString()}&to=${new Date().toISOString()}`,
    );
    expect(rec.status).toBe(200);
    expect(rec.body.spans.length).toBeGreaterThan(0);
    expect(rec.body.spans.reduce((n, x) => n + x.segments, 0)).toBeGreaterThan(3);

    const snap = await api<{ media: Media }>(s, admin, '/api/sites/site-a/cameras/cam-cor/snapshot', {
      method: 'POST',
    });
    expect(snap.status, JSON.stringify(snap.body)).toBe(200);
    expect(snap.body.media.kind).toBe('snapshot');
    const jpeg = Buffer.from(
      await (
        await fetch(`${s.base}${snap.body.media.url}`, { headers: { authorization: `Bearer ${admin}` } })
      ).arrayBuffer(),
    );
    expect(jpeg[0]).toBe(0xff);
    expect(jpeg[1]).toBe(0xd8);

    const clip = await api<{ media: Media }>(s, admin, '/api/sites/site-a/cameras/cam-cor/clips', {
      method: 'POST',
      body: JSON.stringify({ from, to }),
    });
    expect(clip.status, JSON.stringify(clip.body)).toBe(200);
    expect(clip.body.media).toMatchObject({ kind: 'clip', eventId: null });

    // bad requests say what is wrong
    const long = await api<{ error: { code: string } }>(s, admin, '/api/sites/site-a/cameras/cam-cor/clips', {
      method: 'POST',
      body: JSON.stringify({ from: new Date(Date.now() - 3_600_000).toISOString(), to }),
    });
    expect(long.body.error.code).toBe('MEDIA_RANGE_TOO_LONG');
    const none = await api<{ error: { code: string } }>(
      s,
      admin,
      '/api/sites/site-a/cameras/cam-nope/snapshot',
      {
        method: 'POST',
      },
    );
    expect(none.status).toBe(404);
    expect(none.body.error.code).toBe('MEDIA_UNKNOWN_CAMERA');
  }, 120_000);

  it('keeps footage to the people allowed to see it, and logs every look', async () => {
    const staff = await login(s, 'staff-a', 'staff-a-password');
    const other = await login(s, 'head-b', 'head-b-password');
    const list = await api<{ media: Media[] }>(s, staff, '/api/sites/site-a/cameras/cam-cor/media');
    expect(list.body.media.length).toBeGreaterThanOrEqual(3);
    const m = list.body.media[0]!;
    expect((await fetch(`${s.base}${m.url}`, { headers: { authorization: `Bearer ${staff}` } })).status).toBe(
      200,
    );
    // another institution's head sees neither the list nor the file
    expect((await api(s, other, '/api/sites/site-a/cameras/cam-cor/media')).status).toBe(404);
    expect((await fetch(`${s.base}${m.url}`, { headers: { authorization: `Bearer ${other}` } })).status).toBe(
      404,
    );
    expect((await fetch(`${s.base}${m.url}`)).status).toBe(401);
    // staff may not read the access log; the admin reads who looked at what
    expect((await api(s, staff, '/api/media/access-log')).status).toBe(403);
    const logRes = await api<{ entries: Array<{ actor: string; action: string; mediaId: string | null }> }>(
      s,
      admin,
      '/api/media/access-log?siteId=site-a',
    );
    const actions = logRes.body.entries.map((e) => `${e.actor} ${e.action}`);
    expect(actions).toContain('user:staff-a view');
    expect(actions).toContain('user:admin download');
    expect(actions).toContain('user:admin snapshot');
    expect(actions).toContain('user:admin clip');
    expect(actions).toContain('user:admin list');
    expect(logRes.body.entries.find((e) => e.actor === 'user:staff-a')?.mediaId).toBe(m.id);
  }, 60_000);

  it('accepts uploads only with the gateway credentials of the same site', async () => {
    const gwB = await provisionGateway({ dataDir: s.centralDir, siteId: 'site-b', gatewayId: 'gw-site-b' });
    const id = '01900000-0000-7000-8000-000000000001';
    const meta = (siteId: string) =>
      JSON.stringify({
        kind: 'snapshot',
        siteId,
        cameraId: 'cam-cor',
        eventId: null,
        eventKind: null,
        from: new Date().toISOString(),
        to: new Date().toISOString(),
      });
    // an 8×8 JPEG made by ffmpeg (fixtures/tiny.jpg)
    const jpeg = readFileSync(new URL('./fixtures/tiny.jpg', import.meta.url));
    const put = (auth: string, siteId: string, body: Buffer = jpeg, type = 'image/jpeg') =>
      fetch(`${s.base}/api/gateway/media/${id}`, {
        method: 'PUT',
        headers: {
          authorization: `Basic ${Buffer.from(auth).toString('base64')}`,
          'content-type': type,
          'x-carewatch-media': meta(siteId),
        },
        body,
      });
    expect((await put('gw-site-a:wrong-password', 'site-a')).status).toBe(401);
    const cross = await put(`gw-site-b:${gwB.password}`, 'site-a');
    expect(cross.status).toBe(403);
    const badType = await put(`gw-site-b:${gwB.password}`, 'site-b', jpeg, 'video/mp4');
    expect(badType.status).toBe(415);
    const ok = await put(`gw-site-b:${gwB.password}`, 'site-b');
    expect(ok.status).toBe(201);
    const again = await put(`gw-site-b:${gwB.password}`, 'site-b');
    expect(again.status).toBe(200);
    expect(((await again.json()) as { stored: boolean }).stored).toBe(false);
    const metrics = await (await fetch(`${s.base}/metrics`)).text();
    expect(metrics).toMatch(/carewatch_media_uploads_total\{outcome="GATEWAY_AUTH_FAILED"\} 1/);
    expect(metrics).toMatch(/carewatch_media_uploads_total\{outcome="FORBIDDEN"\} 1/);
  }, 60_000);
});
