/**
 * `PUT /api/gateway/media/:id`: a gateway uploads a snapshot or a clip with
 * its own credentials (HTTP Basic: gateway id + MQTT password, checked
 * against the same scrypt hash as its MQTT login) and may only upload for
 * its own site. The body is streamed to a temporary file, bounded in size,
 * then renamed and indexed; an upload of a known id is answered 200 and
 * changes nothing, so the gateway may retry after a lost answer.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { FastifyInstance } from 'fastify';
import type { MediaStore } from '../../central/media/store.js';
import type { GatewayCredentials } from '../../ingest/credentials.js';
import { CarewatchError } from '../../lib/errors.js';
import type { Metrics } from '../../lib/metrics.js';
import { ID_PATTERN } from '../../protocol/index.js';

export const MEDIA_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$';
export const DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024;

const CONTENT_TYPES: Record<string, 'clip' | 'snapshot'> = { 'video/mp4': 'clip', 'image/jpeg': 'snapshot' };

export const UploadMeta = Type.Object(
  {
    kind: Type.Union([Type.Literal('clip'), Type.Literal('snapshot')]),
    siteId: Type.String({ pattern: ID_PATTERN }),
    cameraId: Type.String({ pattern: ID_PATTERN }),
    eventId: Type.Union([Type.String({ pattern: MEDIA_ID_PATTERN }), Type.Null()]),
    eventKind: Type.Union([Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }), Type.Null()]),
    from: Type.String({ maxLength: 40 }),
    to: Type.String({ maxLength: 40 }),
  },
  { additionalProperties: false },
);
export type UploadMeta = Static<typeof UploadMeta>;

/** Reads and checks the metadata header; the error names the field and what is wrong with it. */
export function parseUploadMeta(header: unknown): UploadMeta & { fromMs: number; toMs: number } {
  if (typeof header !== 'string' || header.length > 4000) {
    throw new CarewatchError('MEDIA_META_INVALID', 'X-Carewatch-Media header missing or too long');
  }
  let v: unknown;
  try {
    v = JSON.parse(header);
  } catch (err) {
    throw new CarewatchError(
      'MEDIA_META_INVALID',
      `X-Carewatch-Media is not JSON: ${(err as Error).message}`,
    );
  }
  const first = Value.Errors(UploadMeta, v).First();
  if (first) {
    throw new CarewatchError('MEDIA_META_INVALID', `X-Carewatch-Media${first.path || ''}: ${first.message}`);
  }
  const meta = v as UploadMeta;
  const fromMs = Date.parse(meta.from);
  const toMs = Date.parse(meta.to);
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || toMs < fromMs) {
    throw new CarewatchError('MEDIA_META_INVALID', 'X-Carewatch-Media/from,to: not a date-time range');
  }
  return { ...meta, fromMs, toMs };
}

/** `Basic base64(id:password)` → the gateway's identity, or a 401. */
export async function gatewayFromAuthorization(
  header: string | undefined,
  credentials: GatewayCredentials,
): Promise<{ gatewayId: string; siteId: string }> {
  const m = /^Basic\s+([A-Za-z0-9+/=]{1,1000})$/.exec(header ?? '');
  const decoded = m ? Buffer.from(m[1]!, 'base64').toString() : '';
  const colon = decoded.indexOf(':');
  if (colon <= 0)
    throw new CarewatchError('GATEWAY_AUTH_FAILED', 'gateway credentials required (HTTP Basic)');
  const identity = await credentials.verify(decoded.slice(0, colon), decoded.slice(colon + 1));
  if (!identity) throw new CarewatchError('GATEWAY_AUTH_FAILED', 'unknown gateway or wrong password');
  return identity;
}

export async function gatewayMediaRoutes(
  app: FastifyInstance,
  deps: { media: MediaStore; credentials: GatewayCredentials; metrics: Metrics; maxUploadBytes?: number },
): Promise<void> {
  const max = deps.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const uploads = deps.metrics.counter('carewatch_media_uploads_total', 'media uploads by outcome', [
    'outcome',
  ]);
  await app.register(async (scoped) => {
    // the body is streamed to disk by the handler, not buffered by fastify
    scoped.addContentTypeParser(Object.keys(CONTENT_TYPES), (_req, payload, done) => done(null, payload));
    scoped.put<{ Params: { id: string } }>(
      '/api/gateway/media/:id',
      {
        schema: {
          params: Type.Object({ id: Type.String({ pattern: MEDIA_ID_PATTERN }) }),
          response: {
            '2xx': Type.Object({ id: Type.String(), stored: Type.Boolean(), bytes: Type.Integer() }),
          },
        },
      },
      async (req, reply) => {
        const body = req.body as Readable | undefined;
        try {
          const gw = await gatewayFromAuthorization(req.headers.authorization, deps.credentials);
          const meta = parseUploadMeta(req.headers['x-carewatch-media']);
          if (meta.siteId !== gw.siteId) {
            throw new CarewatchError(
              'FORBIDDEN',
              `gateway ${gw.gatewayId} may only upload media of site ${gw.siteId}`,
            );
          }
          const type = String(req.headers['content-type'] ?? '')
            .split(';')[0]!
            .trim();
          if (CONTENT_TYPES[type] !== meta.kind || !body) {
            throw new CarewatchError(
              'MEDIA_UNSUPPORTED',
              `a ${meta.kind} must be sent as ${meta.kind === 'clip' ? 'video/mp4' : 'image/jpeg'}`,
            );
          }
          const known = await deps.media.get(req.params.id);
          if (known) {
            body.resume();
            uploads.inc({ outcome: 'repeat' });
            return reply.status(200).send({ id: known.id, stored: false, bytes: known.bytes });
          }
          const record = { id: req.params.id, siteId: meta.siteId, kind: meta.kind };
          await mkdir(deps.media.siteDir(meta.siteId), { recursive: true });
          const final = deps.media.fileOf(record);
          const part = join(deps.media.siteDir(meta.siteId), `.${req.params.id}.part`);
          let bytes = 0;
          body.on('data', (c: Buffer) => {
            bytes += c.length;
            if (bytes > max)
              body.destroy(new CarewatchError('MEDIA_TOO_LARGE', `media larger than ${max} bytes`));
          });
          try {
            await pipeline(body, createWriteStream(part, { flush: true }));
          } catch (err) {
            await unlink(part).catch(() => {});
            throw err;
          }
          const declared = Number(req.headers['content-length']);
          if (Number.isFinite(declared) && declared !== bytes) {
            await unlink(part).catch(() => {});
            throw new CarewatchError('MEDIA_TRUNCATED', `received ${bytes} of ${declared} bytes`);
          }
          await rename(part, final);
          const stored = await deps.media.add({
            ...record,
            cameraId: meta.cameraId,
            eventId: meta.eventId,
            eventKind: meta.eventKind,
            fromMs: meta.fromMs,
            toMs: meta.toMs,
            contentType: type,
            bytes,
            gatewayId: gw.gatewayId,
            createdAt: Date.now(),
          });
          uploads.inc({ outcome: 'stored' });
          return reply.status(stored ? 201 : 200).send({ id: req.params.id, stored, bytes });
        } catch (err) {
          body?.resume();
          uploads.inc({ outcome: (err as CarewatchError).code ?? 'error' });
          throw err;
        }
      },
    );
  });
}
