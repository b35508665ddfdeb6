import pino, { type Logger } from 'pino';

export type { Logger };

/** Field names whose values never reach a log line. */
const REDACT = [
  'password',
  'secret',
  'token',
  '*.password',
  '*.secret',
  '*.token',
  // nested configs: e.g. a camera's ONVIF password, a notification channel's secret
  '*.*.password',
  '*.*.secret',
  '*.*.token',
  '*.*.*.password',
  '*.*.*.secret',
  '*.*.*.token',
  '*.*[*].*.password',
  '*.*.*[*].*.password',
  '*.*.*[*].password',
  '*.*[*].password',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
];

let root: Logger | undefined;

export function rootLogger(): Logger {
  if (!root) {
    root = pino({
      level: process.env.CAREWATCH_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info'),
      redact: { paths: REDACT, censor: '[redacted]' },
      base: { pid: process.pid },
    });
  }
  return root;
}

/** A namespaced child logger, e.g. `logger('ingest:validate')`. */
export function logger(ns: string): Logger {
  return rootLogger().child({ ns });
}
