import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestAuthorization, fetchSnapshotUri, takeSnapshot } from '../../../gateway/media/snapshot.js';
import { tempDir } from '../../../lib/testkit/procs.js';

describe('HTTP Digest for camera snapshots', () => {
  it('answers the RFC 2617 §3.5 example with its published response', () => {
    const h = digestAuthorization(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
      'GET',
      '/dir/index.html',
      'Mufasa',
      'Circle Of Life',
      '0a4f113b',
    );
    expect(h).toContain('response="6629fae49393a05397450978507c4ef1"');
    expect(h).toContain('opaque="5ccc069c403ebaf9f0171e9517f40e41"');
  });

  it('gives up on a challenge without realm or nonce, and never throws on any challenge', () => {
    expect(digestAuthorization('Digest qop="auth"', 'GET', '/', 'u', 'p')).toBeUndefined();
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (c) => {
        const h = digestAuthorization(c, 'GET', '/snap.jpg', 'user', 'pw');
        if (h !== undefined) expect(h.startsWith('Digest username="user"')).toBe(true);
      }),
    );
  });
});

describe('fetchSnapshotUri against a camera that wants Digest', () => {
  const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);
  let server: Server;
  let base = '';
  const seen: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const auth = req.headers.authorization ?? '';
      seen.push(auth);
      const expected = digestAuthorization(
        'Digest realm="cam", nonce="n1", qop="auth"',
        'GET',
        req.url ?? '',
        'admin',
        'secret',
        /cnonce="([^"]+)"/.exec(auth)?.[1],
      );
      if (req.url === '/notjpeg') return res.writeHead(200).end('hello');
      if (auth !== expected) {
        return res.writeHead(401, { 'WWW-Authenticate': 'Digest realm="cam", nonce="n1", qop="auth"' }).end();
      }
      res.writeHead(200, { 'Content-Type': 'image/jpeg' }).end(JPEG);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('fetches the JPEG after the challenge', async () => {
    const jpeg = await fetchSnapshotUri({
      cameraId: 'c',
      snapshotUri: `${base}/snap.jpg`,
      username: 'admin',
      password: 'secret',
    });
    expect(jpeg.equals(JPEG)).toBe(true);
    expect(seen.at(-1)).toMatch(/^Digest username="admin"/);
  });

  it('says so when the password is wrong or the answer is no JPEG', async () => {
    await expect(
      fetchSnapshotUri({
        cameraId: 'c',
        snapshotUri: `${base}/snap.jpg`,
        username: 'admin',
        password: 'nope',
      }),
    ).rejects.toMatchObject({ code: 'MEDIA_SNAPSHOT_AUTH' });
    await expect(fetchSnapshotUri({ cameraId: 'c', snapshotUri: `${base}/notjpeg` })).rejects.toMatchObject({
      code: 'MEDIA_SNAPSHOT_NOT_JPEG',
    });
  });
});

describe('a snapshot grabbed from a stream whose URL carries the password', () => {
  const dir = tempDir('cw-snap-cred-');
  afterAll(() => dir.cleanup());
  const url = 'rtsp://operator:grab-s3cret@10.0.0.5:554/ch1';

  /** An ffmpeg stand-in: keeps its argv and its input script, then writes a JPEG or fails like ffmpeg. */
  const fakeFfmpeg = (fail: boolean) => {
    const bin = join(dir.path, fail ? 'ffmpeg-fail.sh' : 'ffmpeg-ok.sh');
    writeFileSync(
      bin,
      `#!/bin/sh
printf '%s\\n' "$@" > "${dir.path}/argv.txt"
prev=""; for a in "$@"; do if [ "$prev" = "-i" ]; then in="$a"; fi; prev="$a"; out="$a"; done
cp "$in" "${dir.path}/script.txt"; stat -c %a "$in" > "${dir.path}/mode.txt"
${fail ? `echo "[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized" >&2; echo "${url}: Server returned 401 Unauthorized" >&2; exit 1` : `printf '\\377\\330\\377\\331' > "$out"`}
`,
      { mode: 0o755 },
    );
    return bin;
  };

  it('hands the URL to ffmpeg in a script of mode 0600, removed afterwards, never on the command line', async () => {
    const out = join(dir.path, 'snap.jpg');
    const r = await takeSnapshot({ ffmpeg: fakeFfmpeg(false) }, { cameraId: 'cam-1', streamUrl: url }, out);
    expect(r.from).toBe('stream');
    const argv = readFileSync(join(dir.path, 'argv.txt'), 'utf8');
    expect(argv).not.toContain('grab-s3cret');
    expect(argv).toContain('concat');
    expect(readFileSync(join(dir.path, 'script.txt'), 'utf8')).toContain(`file '${url}'`);
    expect(readFileSync(join(dir.path, 'mode.txt'), 'utf8').trim()).toBe('600');
    expect(existsSync(`${out}.ffconcat`)).toBe(false);
  });

  it("keeps the password out of the error when ffmpeg's message repeats the URL", async () => {
    const out = join(dir.path, 'snap2.jpg');
    const err = await takeSnapshot(
      { ffmpeg: fakeFfmpeg(true) },
      { cameraId: 'cam-1', streamUrl: url },
      out,
    ).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('rtsp://operator:***@10.0.0.5:554/ch1');
    expect((err as Error).message).not.toContain('grab-s3cret');
    expect(existsSync(`${out}.ffconcat`)).toBe(false);
  });
});
