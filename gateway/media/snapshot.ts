/**
 * A still picture of a camera, from the best source available: the camera's
 * ONVIF snapshot URI (HTTP, with Basic or Digest authentication), else one
 * frame grabbed from its live stream, else the first frame of its latest
 * recorded segment (an offline camera still shows what it last saw).
 */
import { createHash, randomBytes } from 'node:crypto';
import { stat, unlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { CarewatchError } from '../../lib/errors.js';
import { ffconcatScript, hasCredentials, SCRIPT_INPUT } from '../recorder/ffmpeg-args.js';
import { runFfmpeg } from './ffmpeg-run.js';

export const MAX_SNAPSHOT_BYTES = 8 * 1024 * 1024;

export interface SnapshotSource {
  cameraId: string;
  streamUrl?: string;
  snapshotUri?: string;
  username?: string;
  password?: string;
  transport?: 'tcp' | 'udp';
  /** Path of the camera's latest recorded segment. */
  lastSegment?: string;
}

export interface SnapshotResult {
  from: 'snapshot_uri' | 'stream' | 'segment';
  bytes: number;
}

const isJpeg = (b: Buffer): boolean => b.length > 3 && b[0] === 0xff && b[1] === 0xd8;

function get(url: string, headers: Record<string, string>, timeoutMs: number) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>(
    (resolve, reject) => {
      const u = new URL(url);
      const lib = u.protocol === 'https:' ? https : http;
      const req = lib.get(u, { headers, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_SNAPSHOT_BYTES) {
            req.destroy(
              new CarewatchError('MEDIA_SNAPSHOT_TOO_LARGE', `snapshot exceeds ${MAX_SNAPSHOT_BYTES} bytes`),
            );
            return;
          }
          chunks.push(c);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      });
      req.on('timeout', () =>
        req.destroy(new CarewatchError('MEDIA_SNAPSHOT_TIMEOUT', `no answer within ${timeoutMs} ms`)),
      );
      req.on('error', reject);
    },
  );
}

/** The Authorization header answering an HTTP Digest challenge (RFC 7616, MD5, qop=auth). */
export function digestAuthorization(
  challenge: string,
  method: string,
  uri: string,
  username: string,
  password: string,
  cnonce = randomBytes(8).toString('hex'),
): string | undefined {
  const params = new Map<string, string>();
  for (const m of challenge.matchAll(/(\w+)=(?:"([^"]*)"|([^\s,]+))/g))
    params.set(m[1]!.toLowerCase(), m[2] ?? m[3]!);
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (realm === undefined || nonce === undefined) return undefined;
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const qop = params
    .get('qop')
    ?.split(',')
    .map((q) => q.trim())
    .includes('auth')
    ? 'auth'
    : undefined;
  const ha1 = md5(`${username}:${realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  const nc = '00000001';
  const response = qop ? md5(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
  const opaque = params.get('opaque');
  return [
    `Digest username="${username}"`,
    `realm="${realm}"`,
    `nonce="${nonce}"`,
    `uri="${uri}"`,
    `response="${response}"`,
    ...(qop ? [`qop=${qop}`, `nc=${nc}`, `cnonce="${cnonce}"`] : []),
    ...(opaque ? [`opaque="${opaque}"`] : []),
    'algorithm=MD5',
  ].join(', ');
}

/** GET of the camera's snapshot URI, answering a Basic or Digest challenge with the camera's credentials. */
export async function fetchSnapshotUri(src: SnapshotSource, timeoutMs = 5000): Promise<Buffer> {
  const url = src.snapshotUri!;
  let res = await get(url, {}, timeoutMs);
  if (res.status === 401 && src.username !== undefined) {
    const challenge = String(res.headers['www-authenticate'] ?? '');
    const u = new URL(url);
    const auth = /^digest/i.test(challenge)
      ? digestAuthorization(challenge, 'GET', `${u.pathname}${u.search}`, src.username, src.password ?? '')
      : `Basic ${Buffer.from(`${src.username}:${src.password ?? ''}`).toString('base64')}`;
    if (auth) res = await get(url, { Authorization: auth }, timeoutMs);
  }
  if (res.status === 401)
    throw new CarewatchError('MEDIA_SNAPSHOT_AUTH', 'the camera refused the credentials for its snapshot');
  if (res.status !== 200)
    throw new CarewatchError('MEDIA_SNAPSHOT_FAILED', `the camera answered HTTP ${res.status}`);
  if (!isJpeg(res.body))
    throw new CarewatchError('MEDIA_SNAPSHOT_NOT_JPEG', 'the camera sent something that is not a JPEG');
  return res.body;
}

/**
 * The argv of a one-frame grab. With `scriptPath` the input is that ffconcat
 * script (for a URL with credentials), not the URL.
 */
export function grabFrameArgs(
  input: string,
  outPath: string,
  transport?: 'tcp' | 'udp',
  scriptPath?: string,
): string[] {
  const direct = [...(input.startsWith('rtsp') ? ['-rtsp_transport', transport ?? 'tcp'] : []), '-i', input];
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    '-y',
    ...(scriptPath ? [...SCRIPT_INPUT, '-i', scriptPath] : direct),
    '-frames:v',
    '1',
    '-q:v',
    '3',
    '-f',
    'image2',
    '-c:v',
    'mjpeg',
    outPath,
  ];
}

/** Writes a JPEG of the camera to `outPath`, trying each source in turn; throws the last reason if none works. */
export async function takeSnapshot(
  deps: { ffmpeg: string; timeoutMs?: number },
  src: SnapshotSource,
  outPath: string,
): Promise<SnapshotResult> {
  const reasons: string[] = [];
  if (src.snapshotUri) {
    try {
      const jpeg = await fetchSnapshotUri(src, deps.timeoutMs ?? 5000);
      await writeFile(outPath, jpeg);
      return { from: 'snapshot_uri', bytes: jpeg.length };
    } catch (err) {
      reasons.push(`snapshot URI: ${(err as Error).message}`);
    }
  }
  const grab = async (input: string, from: SnapshotResult['from']): Promise<SnapshotResult> => {
    // a URL with credentials goes to ffmpeg in a file only this user reads, not on its command line
    const script = hasCredentials(input) ? `${outPath}.ffconcat` : undefined;
    try {
      if (script) {
        const opts: Array<[string, string]> = input.startsWith('rtsp')
          ? [['rtsp_transport', src.transport ?? 'tcp']]
          : [];
        await writeFile(script, ffconcatScript(input, opts), { mode: 0o600 });
      }
      const args = grabFrameArgs(input, outPath, src.transport, script);
      await runFfmpeg(deps.ffmpeg, args, deps.timeoutMs ?? 15_000);
    } finally {
      if (script) await unlink(script).catch(() => undefined);
    }
    return { from, bytes: (await stat(outPath)).size };
  };
  if (src.streamUrl) {
    try {
      return await grab(src.streamUrl, 'stream');
    } catch (err) {
      reasons.push(`live stream: ${(err as Error).message}`);
    }
  }
  if (src.lastSegment) {
    try {
      return await grab(src.lastSegment, 'segment');
    } catch (err) {
      reasons.push(`latest segment: ${(err as Error).message}`);
    }
  }
  throw new CarewatchError(
    'MEDIA_SNAPSHOT_UNAVAILABLE',
    `no snapshot of camera ${src.cameraId}: ${reasons.join('; ') || 'it has no source'}`,
  );
}
