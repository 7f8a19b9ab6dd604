/**
 * Errors are typed values: a stable `code` that callers switch on, an English message that is safe
 * to show a user (never a secret, never a stack), whether trying again may help, and the cause.
 * Bots translate `code` + `params` into the user's language; logs get `cause` as well.
 */
export const ERROR_CODES = [
  'bad_input', // the request itself is wrong: fix it and ask again
  'queue_full', // too many jobs are waiting overall
  'user_limit', // this user already has the jobs they are allowed
  'cancelled', // the owner or an admin cancelled the job
  'provider_unavailable', // a provider could not be reached or kept failing (retryable)
  'provider_refused', // a provider said no: bad key, quota, content policy
  'content_policy', // the topic or a prompt was refused on content grounds
  'too_large', // the result does not fit the destination's upload limit
  'missing_dependency', // a program such as ffmpeg is not installed
  'config', // the environment is wrong
  'render_failed', // ffmpeg failed
  'internal', // a bug
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ReelforgeErrorOptions {
  /** Safe to retry the same work later (a network blip, a 5xx, a 429). */
  retryable?: boolean;
  cause?: unknown;
  /** Values a translated message may use, e.g. `{ min: 10, max: 180 }`. */
  params?: Record<string, string | number>;
}

export class ReelforgeError extends Error {
  override readonly name = 'ReelforgeError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly params: Record<string, string | number>;

  constructor(code: ErrorCode, message: string, options: ReelforgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.params = options.params ?? {};
  }

  toJSON(): { code: ErrorCode; message: string; retryable: boolean; params: Record<string, string | number> } {
    return { code: this.code, message: this.message, retryable: this.retryable, params: this.params };
  }
}

export function isReelforgeError(value: unknown): value is ReelforgeError {
  return value instanceof ReelforgeError;
}

/** Wraps anything thrown into a ReelforgeError; unknown errors become `internal` with a generic message. */
export function toReelforgeError(error: unknown): ReelforgeError {
  if (error instanceof ReelforgeError) return error;
  if (isAbortError(error)) return new ReelforgeError('cancelled', 'The job was cancelled.', { cause: error });
  return new ReelforgeError('internal', 'Something went wrong on our side.', { cause: error });
}

export function isAbortError(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'AbortError' || (error as { code?: unknown }).code === 'ABORT_ERR')
  );
}

/** Throws the signal's reason as a `cancelled` error when the signal is aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    throw reason instanceof ReelforgeError ? reason : new ReelforgeError('cancelled', 'The job was cancelled.');
  }
}
