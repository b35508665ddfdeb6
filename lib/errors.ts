/**
 * Coded errors. Every error that crosses a module boundary carries a stable
 * machine-readable `code` (used in metrics labels, API responses and tests)
 * and a human message that says what is wrong and where.
 */
export class CarewatchError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: string,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CarewatchError';
    this.code = code;
    this.details = details;
  }
}

/** Configuration is invalid: the process must refuse to start. */
export class ConfigError extends CarewatchError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('CONFIG_INVALID', message, details);
    this.name = 'ConfigError';
  }
}

export function isCarewatchError(err: unknown): err is CarewatchError {
  return err instanceof CarewatchError;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
