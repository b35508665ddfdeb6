/**
 * Upload of one media file to the central: `PUT {httpUrl}/api/gateway/media/{id}`
 * with the gateway's own credentials (HTTP Basic: gateway id and MQTT
 * password) and the metadata in headers; the body is streamed from disk.
 * The central answers 201 (stored) or 200 (it had it already: uploads are
 * idempotent by id), so a retry after a lost answer is harmless.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { CarewatchError } from '../../lib/errors.js';
import type { MediaJob } from './jobs.js';

export interface UploadTarget {
  httpUrl: string;
  siteId: string;
  gatewayId: string;
  password: string;
  caFile?: string | undefined;
  rejectUnauthorized?: boolean;
}

export class UploadError extends CarewatchError {
  constructor(
    message: string,
    /** A permanent refusal (bad request, unknown camera, wrong site): retrying cannot help. */
    readonly permanent: boolean,
    readonly status?: number,
  ) {
    super(permanent ? 'MEDIA_UPLOAD_REFUSED' : 'MEDIA_UPLOAD_FAILED', message);
  }
}

export function mediaUrl(base: string, id: string): URL {
  return new URL(`api/gateway/media/${encodeURIComponent(id)}`, base.endsWith('/') ? base : `${base}/`);
}

export async function uploadMedia(target: UploadTarget, job: MediaJob, timeoutMs = 120_000): Promise<number> {
  if (!job.path) throw new UploadError(`media ${job.id} has no file`, true);
  const { size } = await stat(job.path);
  const url = mediaUrl(target.httpUrl, job.id);
  const lib = url.protocol === 'https:' ? https : http;
  const meta = {
    kind: job.kind,
    siteId: target.siteId,
    cameraId: job.cameraId,
    eventId: job.eventId,
    eventKind: job.eventKind,
    from: new Date(job.fromMs).toISOString(),
    to: new Date(job.toMs).toISOString(),
  };
  return new Promise<number>((resolve, reject) => {
    const req = lib.request(
      url,
      {
        method: 'PUT',
        timeout: timeoutMs,
        headers: {
          'Content-Type': job.contentType,
          'Content-Length': String(size),
          Authorization: `Basic ${Buffer.from(`${target.gatewayId}:${target.password}`).toString('base64')}`,
          'X-Carewatch-Media': JSON.stringify(meta),
        },
        ...(url.protocol === 'https:'
          ? {
              ...(target.caFile ? { ca: readFileSync(target.caFile) } : {}),
              rejectUnauthorized: target.rejectUnauthorized ?? true,
            }
          : {}),
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          if (body.length < 2000) body += c.toString();
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status === 200 || status === 201) return resolve(status);
          let message = body.slice(0, 300);
          try {
            message = (JSON.parse(body) as { error?: { message?: string } }).error?.message ?? message;
          } catch {}
          const permanent = status >= 400 && status < 500 && status !== 408 && status !== 429;
          reject(new UploadError(`the central answered HTTP ${status}: ${message}`, permanent, status));
        });
      },
    );
    req.on('timeout', () => req.destroy(new UploadError(`no answer within ${timeoutMs} ms`, false)));
    req.on('error', (err) =>
      reject(
        err instanceof UploadError ? err : new UploadError(`cannot reach the central: ${err.message}`, false),
      ),
    );
    createReadStream(job.path!)
      .on('error', (err) => req.destroy(new UploadError(`cannot read ${job.path}: ${err.message}`, true)))
      .pipe(req);
  });
}
