import { ConfigError, isCarewatchError } from '../lib/errors.js';
import { armExitDeadline } from '../lib/exit-deadline.js';
import { logger } from '../lib/logger.js';

const log = logger('cli');

/**
 * Runs a long-lived service until SIGINT/SIGTERM, then stops it gracefully:
 * `graceMs` for the service to stop (then exit 1), and a hard deadline
 * `killMs` after the signal that holds even when the main thread is stuck
 * (see `armExitDeadline`).
 */
export async function runService(
  name: string,
  svc: { start(): Promise<void>; stop(): Promise<void> },
  limits: { graceMs?: number; killMs?: number } = {},
): Promise<void> {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `${name} shutting down`);
    armExitDeadline(limits.killMs ?? 20_000);
    const force = setTimeout(() => process.exit(1), limits.graceMs ?? 15_000);
    force.unref();
    try {
      await svc.stop();
      process.exit(0);
    } catch (err) {
      log.error({ err }, `${name} did not stop cleanly`);
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  await svc.start();
}

/** Prints a clear message for configuration and usage errors and exits non-zero. */
export function fail(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`carewatch: configuration error: ${err.message}\n`);
    process.exit(2);
  }
  if (isCarewatchError(err)) {
    process.stderr.write(`carewatch: ${err.code}: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`carewatch: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
