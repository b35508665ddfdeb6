import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandRouter } from '../../../gateway/commands.js';
import { CamerasConfig } from '../../../gateway/config.js';
import { MediaModule } from '../../../gateway/media/media-module.js';
import { Outbox } from '../../../gateway/outbox.js';
import { migrate, SegmentIndex } from '../../../gateway/recorder/segment-index.js';
import { Metrics } from '../../../lib/metrics.js';
import { freePort, tempDir, until } from '../../../lib/testkit/procs.js';
import { openDatabase } from '../../../storage/sqlite/open.js';
import { ffmpegAvailable } from '../recorder/media.js';

/** Three 2-second fragmented MP4 segments of a test pattern, as the recorder files them. */
function makeSegments(dir: string, index: SegmentIndex, startMs: number): void {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < 3; i++) {
    const path = join(dir, `cam-1_${i}.mp4`);
    const r = spawnSync('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=160x120:rate=10:duration=2`,
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-g',
      '5',
      '-movflags',
      '+frag_keyframe+empty_moov+default_base_moof',
      '-f',
      'mp4',
      path,
    ]);
    expect(r.status, String(r.stderr)).toBe(0);
    index.add({
      cameraId: 'cam-1',
      path,
      startMs: startMs + i * 2000,
      endMs: startMs + (i + 1) * 2000,
      bytes: statSync(path).size,
    });
  }
}

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A stand-in for the central's upload endpoint that records each request exactly. */
async function fakeCentral(port: number, status = 201): Promise<{ server: Server; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
      res
        .writeHead(status, { 'content-type': 'application/json' })
        .end(
          status < 300
            ? JSON.stringify({ stored: true })
            : JSON.stringify({ error: { code: 'X', message: 'camera unknown' } }),
        );
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { server, seen };
}

describe('MediaModule: event clips through a durable upload queue', () => {
  const dirs: Array<{ cleanup(): void }> = [];
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
    for (const d of dirs.splice(0)) d.cleanup();
  });

  const setup = (port: number) => {
    const dir = tempDir('cw-media-mod-');
    dirs.push(dir);
    const db = openDatabase(join(dir.path, 'gateway.db'));
    migrate(db);
    const index = new SegmentIndex(db);
    const config = Value.Default(
      CamerasConfig,
      Value.Clone({
        recordingsDir: join(dir.path, 'rec'),
        segmentSeconds: 2,
        clips: { beforeS: 1, afterS: 1 },
        devices: [
          {
            deviceId: 'cam-1',
            zone: 'corridor',
            streamUrl: 'udp://127.0.0.1:9',
            covers: ['btn-1', 'fire-panel-1'],
          },
        ],
      }),
    ) as CamerasConfig;
    const outbox = new Outbox(db, 'site-a');
    const make = () =>
      new MediaModule({
        config,
        dataDir: dir.path,
        db,
        outbox,
        commands: new CommandRouter({ siteId: 'site-a', reply: () => {} }),
        metrics: new Metrics(),
        upload: {
          httpUrl: `http://127.0.0.1:${port}`,
          siteId: 'site-a',
          gatewayId: 'gw-a',
          password: 'pw-of-gw-a',
        },
        source: () => undefined,
      });
    return { dir, db, index, outbox, make };
  };

  it('cuts the clip, keeps it while the central is away, and uploads it exactly as specified after a restart', async () => {
    expect(ffmpegAvailable()).toBe(true);
    const port = await freePort();
    const { dir, db, index, outbox, make } = setup(port);
    const now = Date.now();
    makeSegments(join(dir.path, 'rec', 'cam-1'), index, now - 6000);

    let media = make();
    await media.start();
    // a call pressed 3 s ago on the covered button, and an uncovered one
    const call = await outbox.add({
      kind: 'emergency_call',
      deviceId: 'btn-1',
      ts: new Date(now - 3000),
      data: { action: 'pressed' },
    });
    await outbox.add({ kind: 'emergency_call', deviceId: 'btn-9', data: { action: 'pressed' } });
    await outbox.add({ kind: 'emergency_call', deviceId: 'btn-1', data: { action: 'cancelled' } });
    // cut, then the upload fails (nobody listens) and is retried
    await until(async () => (media.counts().upload === 1 ? true : undefined), 20_000);
    const row = db.prepare('SELECT path, attempts, error FROM media_jobs').get() as {
      path: string;
      attempts: number;
      error: string;
    };
    expect(existsSync(row.path)).toBe(true);
    await until(
      async () =>
        (db.prepare('SELECT attempts FROM media_jobs').get() as { attempts: number }).attempts > 0
          ? true
          : undefined,
      10_000,
    );
    expect((db.prepare('SELECT error FROM media_jobs').get() as { error: string }).error).toContain(
      'cannot reach the central',
    );

    // the gateway restarts; the central comes back
    await media.stop();
    const { server, seen } = await fakeCentral(port);
    servers.push(server);
    media = make();
    await media.start();
    await until(async () => (seen.length === 1 && media.counts().upload === 0 ? true : undefined), 20_000);
    await media.stop();

    const req = seen[0]!;
    expect(req.method).toBe('PUT');
    expect(req.url).toMatch(/^\/api\/gateway\/media\/[0-9a-f-]{36}$/);
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from('gw-a:pw-of-gw-a').toString('base64')}`);
    expect(req.headers['content-type']).toBe('video/mp4');
    expect(Number(req.headers['content-length'])).toBe(req.body.length);
    const meta = JSON.parse(String(req.headers['x-carewatch-media']));
    expect(meta).toMatchObject({
      kind: 'clip',
      siteId: 'site-a',
      cameraId: 'cam-1',
      eventId: call.id,
      eventKind: 'emergency_call',
    });
    expect(Date.parse(meta.from)).toBe(now - 4000);
    expect(Date.parse(meta.to)).toBe(now - 2000);
    // an MP4 (ftyp box first) with the index in front for progressive playback
    expect(req.body.subarray(4, 8).toString()).toBe('ftyp');
    expect(req.body.indexOf('moov')).toBeLessThan(req.body.indexOf('mdat'));
    // once the central has it, the copy at the site is gone (the footage stays in the segments)
    expect(existsSync(row.path)).toBe(false);
    expect(index.totals('cam-1').segments).toBe(3);
  }, 60_000);

  it('a new fire alarm from a covered panel gets a clip; a restore, a trouble report or an uncovered panel does not', async () => {
    const port = await freePort();
    const { dir, db, index, outbox, make } = setup(port);
    const now = Date.now();
    makeSegments(join(dir.path, 'rec', 'cam-1'), index, now - 6000);
    const media = make();
    await media.start();
    const alarm = (deviceId: string, category: 'fire' | 'trouble', qualifier: 'new' | 'restore') =>
      outbox.add({
        kind: 'panel_alarm',
        deviceId,
        ts: new Date(now - 3000),
        data: { protocol: 'gb26875', category, qualifier, code: `part:${category}`, zone: '3F' },
      });
    const fire = await alarm('fire-panel-1', 'fire', 'new');
    await alarm('fire-panel-1', 'fire', 'restore');
    await alarm('fire-panel-1', 'trouble', 'new');
    await alarm('fire-panel-9', 'fire', 'new');
    await until(
      async () =>
        (db.prepare('SELECT count(*) AS n FROM media_jobs').get() as { n: number }).n > 0 ? true : undefined,
      10_000,
    );
    await new Promise((r) => setTimeout(r, 300)); // any further job would have been added with the first
    await media.stop();
    const jobs = db.prepare('SELECT kind, camera_id, event_id, event_kind FROM media_jobs').all();
    expect(jobs).toEqual([
      { kind: 'clip', camera_id: 'cam-1', event_id: fire.id, event_kind: 'panel_alarm' },
    ]);
  }, 30_000);

  it('gives up on a clip the central refuses, and on a call with no footage, saying why', async () => {
    const port = await freePort();
    const { dir, db, index, outbox, make } = setup(port);
    const { server, seen } = await fakeCentral(port, 403);
    servers.push(server);
    const now = Date.now();
    makeSegments(join(dir.path, 'rec', 'cam-1'), index, now - 6000);
    const media = make();
    await media.start();
    await outbox.add({
      kind: 'emergency_call',
      deviceId: 'btn-1',
      ts: new Date(now - 3000),
      data: { action: 'pressed' },
    });
    // a call long before any footage
    await outbox.add({
      kind: 'emergency_call',
      deviceId: 'btn-1',
      ts: new Date(now - 3_600_000),
      data: { action: 'pressed' },
    });
    await until(async () => (media.counts().failed === 2 ? true : undefined), 20_000);
    await media.stop();
    const errors = (
      db.prepare('SELECT error FROM media_jobs ORDER BY from_ms').all() as Array<{ error: string }>
    ).map((r) => r.error);
    expect(errors[0]).toContain('MEDIA_NO_FOOTAGE');
    expect(errors[1]).toContain('HTTP 403: camera unknown');
    expect(seen).toHaveLength(1);
  }, 60_000);
});
