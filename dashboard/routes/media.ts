/**
 * Footage for people: recordings of a camera over a time range (asked of the
 * site's gateway, where the footage stays), snapshots and clips (cut at the
 * gateway, uploaded to the central), the clips of an alert, and the files
 * themselves with HTTP range support so a browser's <video> can seek. Every
 * list, view, download, snapshot and clip request is written to the access
 * log with who, what and when: footage of residents is sensitive.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseRange } from '../../central/media/range.js';
import type { AccessAction, MediaRecord } from '../../central/media/store.js';
import { CarewatchError } from '../../lib/errors.js';
import { ID_PATTERN } from '../../protocol/index.js';
import type { AppDeps } from '../app.js';
import type { AuthContext } from '../auth.js';
import { canSeeAlert, canSeeSite, type Scope } from '../scope.js';
import { MEDIA_ID_PATTERN } from './gateway-media.js';

const MediaView = Type.Object({
  id: Type.String(),
  siteId: Type.String(),
  cameraId: Type.String(),
  kind: Type.String(),
  eventId: Type.Union([Type.String(), Type.Null()]),
  eventKind: Type.Union([Type.String(), Type.Null()]),
  from: Type.String(),
  to: Type.String(),
  contentType: Type.String(),
  bytes: Type.Integer(),
  createdAt: Type.Number(),
  url: Type.String(),
});
const CameraParams = Type.Object({
  siteId: Type.String({ pattern: ID_PATTERN }),
  cameraId: Type.String({ pattern: ID_PATTERN }),
});
const TimeRange = Type.Object(
  { from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }) },
  { additionalProperties: false },
);
const Span = Type.Object({
  from: Type.String(),
  to: Type.String(),
  segments: Type.Integer(),
  bytes: Type.Number(),
});

export const mediaView = (m: MediaRecord) => ({
  id: m.id,
  siteId: m.siteId,
  cameraId: m.cameraId,
  kind: m.kind,
  eventId: m.eventId,
  eventKind: m.eventKind,
  from: new Date(m.fromMs).toISOString(),
  to: new Date(m.toMs).toISOString(),
  contentType: m.contentType,
  bytes: m.bytes,
  createdAt: m.createdAt,
  url: `/api/media/${m.id}/file`,
});

/** Event clips are visible to whoever may see the event's kind at that site; the rest needs `video`. */
export function canWatch(scope: Scope, m: Pick<MediaRecord, 'siteId' | 'eventKind'>): boolean {
  if (!canSeeSite(scope, m.siteId)) return false;
  if (scope.can.video) return true;
  return m.eventKind !== null && (scope.eventKinds === 'all' || scope.eventKinds.has(m.eventKind));
}

export async function mediaRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { media } = deps;

  const log = (
    ctx: AuthContext,
    req: FastifyRequest,
    action: AccessAction,
    e: {
      siteId: string;
      cameraId?: string | null;
      mediaId?: string | null;
      detail?: string | null;
    },
  ) =>
    media.logAccess({
      at: Date.now(),
      actor: `user:${ctx.user.username}`,
      role: ctx.user.role,
      action,
      siteId: e.siteId,
      cameraId: e.cameraId ?? null,
      mediaId: e.mediaId ?? null,
      detail: e.detail ?? null,
      ip: req.ip ?? null,
    });

  const videoUser = async (req: FastifyRequest, siteId: string) => {
    const ctx = await deps.sessions.require(req);
    if (!canSeeSite(ctx.scope, siteId))
      throw new CarewatchError('NOT_FOUND', `site ${siteId} does not exist`);
    if (!ctx.scope.can.video) {
      throw new CarewatchError(
        'FORBIDDEN',
        `role ${ctx.user.role} may only watch the clips of alarms it sees`,
      );
    }
    return ctx;
  };

  /** Sends a media command to the site's gateway and returns its result, or throws its error. */
  const ask = async (
    ctx: AuthContext,
    siteId: string,
    name: string,
    args: Record<string, unknown>,
    timeoutMs: number,
  ) => {
    const rec = await deps.commands.send(siteId, name, args, {
      actor: `user:${ctx.user.username}`,
      timeoutMs,
    });
    if (rec.status === 'timeout') {
      throw new CarewatchError(
        'GATEWAY_TIMEOUT',
        `the gateway of ${siteId} did not answer within ${timeoutMs / 1000} s`,
      );
    }
    const reply = rec.reply as {
      ok?: boolean;
      result?: Record<string, unknown>;
      error?: { code: string; message: string };
    } | null;
    if (!reply?.ok) {
      throw new CarewatchError(
        reply?.error?.code ?? 'COMMAND_FAILED',
        reply?.error?.message ?? `${name} failed`,
      );
    }
    return reply.result ?? {};
  };

  app.get<{ Params: { siteId: string; cameraId: string }; Querystring: { from: string; to: string } }>(
    '/api/sites/:siteId/cameras/:cameraId/recordings',
    {
      schema: {
        params: CameraParams,
        querystring: TimeRange,
        response: {
          200: Type.Object({
            cameraId: Type.String(),
            from: Type.String(),
            to: Type.String(),
            spans: Type.Array(Span),
            truncated: Type.Boolean(),
            oldest: Type.Union([Type.String(), Type.Null()]),
            newest: Type.Union([Type.String(), Type.Null()]),
          }),
        },
      },
    },
    async (req) => {
      const { siteId, cameraId } = req.params;
      const ctx = await videoUser(req, siteId);
      await log(ctx, req, 'list', { siteId, cameraId, detail: `${req.query.from}/${req.query.to}` });
      return (await ask(ctx, siteId, 'recordings', { cameraId, ...req.query }, 10_000)) as never;
    },
  );

  app.post<{ Params: { siteId: string; cameraId: string } }>(
    '/api/sites/:siteId/cameras/:cameraId/snapshot',
    { schema: { params: CameraParams, response: { 200: Type.Object({ media: MediaView }) } } },
    async (req) => {
      const { siteId, cameraId } = req.params;
      const ctx = await videoUser(req, siteId);
      const r = await ask(ctx, siteId, 'snapshot', { cameraId }, 45_000);
      const m = await media.get(String(r.mediaId));
      if (!m)
        throw new CarewatchError(
          'MEDIA_NOT_FOUND',
          'the gateway took the snapshot but the central has not got it',
        );
      await log(ctx, req, 'snapshot', { siteId, cameraId, mediaId: m.id });
      return { media: mediaView(m) };
    },
  );

  app.post<{ Params: { siteId: string; cameraId: string }; Body: { from: string; to: string } }>(
    '/api/sites/:siteId/cameras/:cameraId/clips',
    {
      schema: { params: CameraParams, body: TimeRange, response: { 200: Type.Object({ media: MediaView }) } },
    },
    async (req) => {
      const { siteId, cameraId } = req.params;
      const ctx = await videoUser(req, siteId);
      const r = await ask(ctx, siteId, 'clip', { cameraId, from: req.body.from, to: req.body.to }, 90_000);
      const m = await media.get(String(r.mediaId));
      if (!m)
        throw new CarewatchError(
          'MEDIA_NOT_FOUND',
          'the gateway cut the clip but the central has not got it',
        );
      await log(ctx, req, 'clip', {
        siteId,
        cameraId,
        mediaId: m.id,
        detail: `${req.body.from}/${req.body.to}`,
      });
      return { media: mediaView(m) };
    },
  );

  app.get<{ Params: { siteId: string; cameraId: string } }>(
    '/api/sites/:siteId/cameras/:cameraId/media',
    { schema: { params: CameraParams, response: { 200: Type.Object({ media: Type.Array(MediaView) }) } } },
    async (req) => {
      const { siteId, cameraId } = req.params;
      const ctx = await deps.sessions.require(req);
      if (!canSeeSite(ctx.scope, siteId))
        throw new CarewatchError('NOT_FOUND', `site ${siteId} does not exist`);
      const list = (await media.list({ siteIds: [siteId], cameraId, limit: 200 })).filter((m) =>
        canWatch(ctx.scope, m),
      );
      return { media: list.map(mediaView) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/alerts/:id/media',
    {
      schema: {
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: Type.Object({ media: Type.Array(MediaView) }) },
      },
    },
    async (req) => {
      const ctx = await deps.sessions.require(req);
      const alert = await deps.store.alerts.get(req.params.id);
      if (!alert || !canSeeAlert(ctx.scope, alert)) {
        throw new CarewatchError('ALERT_NOT_FOUND', `alert ${req.params.id} does not exist`);
      }
      const audit = await deps.store.alerts.audit(alert.id);
      const eventIds = [
        ...new Set([alert.eventId, ...audit.map((a) => a.eventId)].filter((e): e is string => !!e)),
      ];
      if (eventIds.length === 0) return { media: [] };
      const list = await media.list({ siteIds: [alert.siteId], eventIds, limit: 100 });
      return { media: list.filter((m) => canWatch(ctx.scope, m)).map(mediaView) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { download?: '1' | 'true' } }>(
    '/api/media/:id/file',
    {
      schema: {
        params: Type.Object({ id: Type.String({ pattern: MEDIA_ID_PATTERN }) }),
        querystring: Type.Object({
          download: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('true')])),
        }),
      },
    },
    async (req, reply) => {
      const ctx = await deps.sessions.require(req);
      const m = await media.get(req.params.id);
      if (!m || !canWatch(ctx.scope, m))
        throw new CarewatchError('MEDIA_NOT_FOUND', `media ${req.params.id} does not exist`);
      const path = media.fileOf(m);
      let size: number;
      try {
        size = (await stat(path)).size;
      } catch {
        throw new CarewatchError('MEDIA_NOT_FOUND', `the file of media ${m.id} is missing`);
      }
      const range = parseRange(req.headers.range, size);
      if (range.kind === 'unsatisfiable') {
        void reply.header('Content-Range', `bytes */${size}`);
        throw new CarewatchError('RANGE_NOT_SATISFIABLE', range.reason);
      }
      const download = req.query.download !== undefined;
      // one entry per viewing: a player's follow-up range requests are not new views
      if (download || range.kind === 'whole' || range.start === 0) {
        await log(ctx, req, download ? 'download' : 'view', {
          siteId: m.siteId,
          cameraId: m.cameraId,
          mediaId: m.id,
        });
      }
      void reply
        .header('Accept-Ranges', 'bytes')
        .header('Cache-Control', 'private, no-store')
        .header('X-Content-Type-Options', 'nosniff')
        .type(m.contentType);
      if (download) {
        const ext = m.kind === 'snapshot' ? 'jpg' : 'mp4';
        void reply.header(
          'Content-Disposition',
          `attachment; filename="${m.siteId}_${m.cameraId}_${m.id}.${ext}"`,
        );
      }
      if (range.kind === 'whole') {
        void reply.header('Content-Length', String(size));
        return reply.send(createReadStream(path));
      }
      void reply
        .status(206)
        .header('Content-Range', `bytes ${range.start}-${range.end}/${size}`)
        .header('Content-Length', String(range.end - range.start + 1));
      return reply.send(createReadStream(path, { start: range.start, end: range.end }));
    },
  );

  app.get<{ Querystring: { siteId?: string; mediaId?: string; limit?: number } }>(
    '/api/media/access-log',
    {
      schema: {
        querystring: Type.Object({
          siteId: Type.Optional(Type.String({ pattern: ID_PATTERN })),
          mediaId: Type.Optional(Type.String({ pattern: MEDIA_ID_PATTERN })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
        }),
        response: {
          200: Type.Object({
            entries: Type.Array(
              Type.Object({
                at: Type.Number(),
                actor: Type.String(),
                role: Type.String(),
                action: Type.String(),
                siteId: Type.String(),
                cameraId: Type.Union([Type.String(), Type.Null()]),
                mediaId: Type.Union([Type.String(), Type.Null()]),
                detail: Type.Union([Type.String(), Type.Null()]),
                ip: Type.Union([Type.String(), Type.Null()]),
              }),
            ),
          }),
        },
      },
    },
    async (req) => {
      const ctx = await deps.sessions.require(req);
      if (!ctx.scope.can.videoAudit) {
        throw new CarewatchError('FORBIDDEN', `role ${ctx.user.role} may not read the footage access log`);
      }
      const { siteId } = req.query;
      if (siteId !== undefined && !canSeeSite(ctx.scope, siteId)) {
        throw new CarewatchError('NOT_FOUND', `site ${siteId} does not exist`);
      }
      const siteIds =
        siteId !== undefined ? [siteId] : ctx.scope.sites === 'all' ? undefined : [...ctx.scope.sites];
      return {
        entries: await media.accessLog({
          siteIds,
          mediaId: req.query.mediaId,
          limit: req.query.limit ?? 200,
        }),
      };
    },
  );
}
