import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isCarewatchError } from '../lib/errors.js';
import { logger } from '../lib/logger.js';

const log = logger('dashboard:http');

const STATUS: Record<string, number> = {
  AUTH_REQUIRED: 401,
  LOGIN_FAILED: 401,
  CSRF_INVALID: 403,
  FORBIDDEN: 403,
  ALERT_NOT_FOUND: 404,
  NOT_FOUND: 404,
  ALERT_TRANSITION_INVALID: 409,
  ACCIDENT_NOT_FOUND: 404,
  HAZARD_NOT_FOUND: 404,
  ACCIDENT_EXISTS: 409,
  HAZARD_CLOSED: 409,
  RATE_LIMITED: 429,
  GATEWAY_AUTH_FAILED: 401,
  MEDIA_NOT_FOUND: 404,
  MEDIA_NO_FOOTAGE: 404,
  MEDIA_UNKNOWN_CAMERA: 404,
  MEDIA_TOO_LARGE: 413,
  MEDIA_UNSUPPORTED: 415,
  RANGE_NOT_SATISFIABLE: 416,
  MEDIA_SNAPSHOT_UNAVAILABLE: 502,
  MEDIA_UPLOAD_DISABLED: 503,
  MEDIA_UPLOAD_PENDING: 503,
  COMMAND_NOT_SENT: 503,
  GATEWAY_TIMEOUT: 504,
};

/** The one error handler: coded errors become `{error: {code, message}}` with a fitting status. */
export function errorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  if (isCarewatchError(err)) {
    void reply.status(STATUS[err.code] ?? 400).send({ error: { code: err.code, message: err.message } });
    return;
  }
  if (err.validation) {
    void reply.status(400).send({
      error: {
        code: 'REQUEST_INVALID',
        message: `${err.validationContext ?? 'request'}${err.message.replace(/^[a-z]+/, '')}`,
      },
    });
    return;
  }
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
  if (status === 500) log.error({ err, url: req.routeOptions?.url }, 'request failed');
  void reply.status(status).send({
    error: {
      code: status === 500 ? 'INTERNAL' : (err.code ?? 'REQUEST_INVALID'),
      message: status === 500 ? 'internal error' : err.message,
    },
  });
}
