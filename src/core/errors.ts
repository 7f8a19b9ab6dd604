/**
 * Errors are typed values: a stable `code` that callers switch on, an English message that is safe
 * to show a user (never a secret, never a stack), whether trying again may help, and the cause.
 * Bots translate `code` + `params` into the user's language; logs get `cause` as well. Each code has
 * its own params type (`ErrorParams`), so a writer and a reader cannot disagree on a name.
 */
import type { Stage } from './progress.js';
import type { SpendLimitName } from './spend.js';

export const ERROR_CODES = [
  'bad_input', // the request itself is wrong: fix it and ask again
  'queue_full', // too many jobs are waiting overall
  'user_limit', // this user already has the jobs they are allowed
  'not_allowed', // the user or chat is not on the deployment's allow-list
  'daily_limit', // a daily limit (videos or dollars per user, the deployment's budget) is used up
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

/** What was wrong with the request; the bots pick their text by it. */
export type BadInputReason =
  | 'duration_not_number'
  | 'duration_range'
  | 'topic_empty'
  | 'topic_too_long'
  | 'script_too_long'
  | 'script_too_long_for_duration'
  | 'script_empty'
  | 'empty_text'
  | 'tier'
  | 'tier_args'
  | 'aspect'
  | 'lang'
  | 'captions'
  | 'storyboard_invalid'
  | 'storyboard_json'
  | 'storyboard_scene'
  | 'storyboard_expired';

/** Why a provider failed, when it said. */
export type ProviderReason =
  | 'auth'
  | 'quota'
  | 'content_policy'
  | 'not_found'
  | 'bad_request'
  | 'bad_output'
  | 'incomplete_stream'
  | 'refusal'
  | 'stalled';

export interface ProviderParams {
  provider?: string;
  /** The call that failed: `chat`, `image`, `speech`… */
  what?: string;
  reason?: ProviderReason;
  status?: number;
  attempts?: number;
  stage?: Stage;
}

/** The params each code carries. Values a translated message may use, or figures for the logs. */
export interface ErrorParams {
  bad_input: { reason: BadInputReason; value?: number; min?: number; max?: number };
  queue_full: { maxWaiting: number };
  user_limit: { limit: number; active: number; waiting: number };
  not_allowed: Record<string, never>;
  /** Which limit, its maximum, what is used, and when it resets (ISO time, minutes from now). */
  daily_limit: { limit: SpendLimitName; max: number; used: number; resetsAt: string; resetsInMin: number };
  /** `chat_gone`: stopped because the bot can no longer post in the chat (removed, blocked, no permission). */
  cancelled: { reason?: 'chat_gone' };
  provider_unavailable: ProviderParams;
  provider_refused: ProviderParams;
  content_policy: ProviderParams;
  /** `bytes`: the file's size when known; `limitBytes`: the destination's limit when known. */
  too_large: { bytes?: number; limitBytes?: number };
  missing_dependency: Record<string, never>;
  config: ProviderParams;
  render_failed: { bytes?: number; reason?: 'time_limit'; limitMin?: number };
  /** Figures for the logs only (sizes, scales); never shown to a user. */
  internal: Readonly<Record<string, number>>;
}

export interface ReelforgeErrorOptions<C extends ErrorCode = ErrorCode> {
  /** Safe to retry the same work later (a network blip, a 5xx, a 429). */
  retryable?: boolean;
  cause?: unknown;
  params?: ErrorParams[C];
}

/** The serialisable form (queue journals, BullMQ failure reasons, events). */
export interface ErrorJson<C extends ErrorCode = ErrorCode> {
  code: C;
  message: string;
  retryable: boolean;
  params: Partial<ErrorParams[C]>;
}

export class ReelforgeError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name = 'ReelforgeError';
  readonly code: C;
  readonly retryable: boolean;
  readonly params: Partial<ErrorParams[C]>;

  constructor(code: C, message: string, options: ReelforgeErrorOptions<C> = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.params = options.params ?? {};
  }

  /** `x instanceof ReelforgeError` narrows to a ReelforgeError of any code (not of `any`). */
  static override [Symbol.hasInstance](value: unknown): value is ReelforgeError {
    return Function.prototype[Symbol.hasInstance].call(ReelforgeError, value);
  }

  /** Rebuilds an error from its JSON form (as a queue stored it). */
  static fromJSON(json: ErrorJson): ReelforgeError {
    const error = new ReelforgeError(json.code, json.message, { retryable: json.retryable });
    Object.assign(error.params, json.params);
    return error;
  }

  toJSON(): ErrorJson<C> {
    return { code: this.code, message: this.message, retryable: this.retryable, params: this.params };
  }
}

/** The parts of an error a reader needs; a ReelforgeError and its JSON form both fit. */
export interface ErrorLike {
  code: ErrorCode;
  params?: object;
}

/** `error`'s params read as those of `code`; none when the error has another code. */
export function paramsOf<C extends ErrorCode>(error: ErrorLike, code: C): Partial<ErrorParams[C]> {
  return error.code === code && error.params ? error.params : {};
}

export function isReelforgeError(value: unknown): value is ReelforgeError {
  return value instanceof ReelforgeError;
}

/** The job was cancelled (by its owner, an admin, Ctrl-C); `retryable` when a shutdown interrupts it and it will resume. */
export function cancelled(message = 'The job was cancelled.', options: { cause?: unknown; retryable?: boolean } = {}): ReelforgeError<'cancelled'> {
  return new ReelforgeError('cancelled', message, options);
}

/** A shutdown interrupted the job; it resumes on the next start. */
export function interrupted(): ReelforgeError<'cancelled'> {
  return cancelled('The worker is shutting down; the job will resume.', { retryable: true });
}

/** This worker lost its hold on the job (its lock could not be renewed): another run has it. */
export function lostJob(): ReelforgeError<'cancelled'> {
  return cancelled('This worker lost the job (its lock could not be renewed); it runs again elsewhere.', { retryable: true });
}

/**
 * The bot can no longer post in the job's chat (removed from the group, blocked, lost its
 * permissions): the job stops, nobody is told (there is no one to tell), nothing is retried.
 */
export function chatGone(message = 'The bot can no longer post in this chat (removed, blocked or without permission).', cause?: unknown): ReelforgeError<'cancelled'> {
  return new ReelforgeError('cancelled', message, { params: { reason: 'chat_gone' }, ...(cause !== undefined ? { cause } : {}) });
}

export function isChatGone(error: ErrorLike): boolean {
  return paramsOf(error, 'cancelled').reason === 'chat_gone';
}

/** A file of `bytes` (when known) does not fit a destination that takes `limitBytes` (when known). */
export function tooLarge(
  bytes: number | undefined,
  limitBytes: number | undefined,
  message = 'The video is larger than this chat accepts.',
  cause?: unknown,
): ReelforgeError<'too_large'> {
  return new ReelforgeError('too_large', message, {
    ...(cause === undefined ? {} : { cause }),
    params: { ...(bytes === undefined ? {} : { bytes }), ...(limitBytes === undefined ? {} : { limitBytes }) },
  });
}

/** The request is wrong in a way `reason` names; `message` says how in English. */
export function badInput(reason: BadInputReason, message: string, figures: Omit<ErrorParams['bad_input'], 'reason'> = {}): ReelforgeError<'bad_input'> {
  return new ReelforgeError('bad_input', message, { params: { reason, ...figures } });
}

/** Why `signal` was aborted, as a `cancelled` error: its reason when that is one already. */
export function cancelledBy(signal: AbortSignal | undefined): ReelforgeError {
  const reason: unknown = signal?.reason;
  return reason instanceof ReelforgeError && reason.code === 'cancelled' ? reason : cancelled(undefined, { cause: reason });
}

/** Wraps anything thrown into a ReelforgeError; unknown errors become `internal` with a generic message. */
export function toReelforgeError(error: unknown): ReelforgeError {
  if (error instanceof ReelforgeError) return error;
  if (isAbortError(error)) return cancelled(undefined, { cause: error });
  if (isDiskFull(error)) return diskFull(error);
  return new ReelforgeError('internal', 'Something went wrong on our side.', { cause: error });
}

/** ENOSPC / EDQUOT: the disk (or the quota) is full, usually for a while; not the job's fault. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && (code === 'ENOSPC' || code === 'EDQUOT');
}

/** The disk was full: retryable, so the queue tries the job again after its backoff instead of failing it at once. */
export function diskFull(cause?: unknown): ReelforgeError<'internal'> {
  return new ReelforgeError('internal', 'The disk was full (ENOSPC or quota).', { retryable: true, ...(cause !== undefined ? { cause } : {}) });
}

export function isAbortError(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'AbortError' || (error as { code?: unknown }).code === 'ABORT_ERR')
  );
}

/** What an aborted signal means for the work it stopped: its own ReelforgeError, else `cancelled`. */
export function abortError(signal: AbortSignal): ReelforgeError {
  const reason: unknown = signal.reason;
  return reason instanceof ReelforgeError ? reason : cancelled();
}

/** Throws the signal's reason as a `cancelled` error when the signal is aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/** Megabytes as a person reads them: 52428800 → 50, 9961472 → 9.5, 20000 → 0.02. */
export function megabytes(bytes: number): number {
  const mb = bytes / 1_048_576;
  return mb >= 1 ? Math.floor(mb * 10) / 10 : Math.round(mb * 100) / 100;
}
