/**
 * The one place the `openai` SDK is constructed. SDK retries are off: we retry ourselves so that
 * every provider shares one policy (exponential backoff with full jitter, `Retry-After` honoured
 * and bounded) and every failure ends as a typed `ReelforgeError` that never carries the key.
 */
import OpenAI from 'openai';
import { ReelforgeError, isAbortError, throwIfCancelled, cancelled } from '../../core/errors.js';
import { sleep } from '../../core/sleep.js';

export interface OpenAiClientOptions {
  apiKey: string;
  /** Any OpenAI-compatible server, e.g. `http://127.0.0.1:11434/v1`. */
  baseURL?: string | undefined;
  timeouts?: {
    /** Until the response headers arrive (the SDK's own timeout). */
    requestMs?: number;
    /** Longest silence inside a streamed response before it counts as stalled. */
    streamIdleMs?: number;
    /** Longest silence in any call, before or after the headers: no byte for this long and it is abandoned. */
    idleMs?: number;
    /** Longest a single call (one try) may take from request to last byte. */
    overallMs?: number;
  };
  retry?: Partial<RetryPolicy>;
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A server's `Retry-After` is obeyed up to this; beyond it we give up rather than wait. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 8_000, maxRetryAfterMs: 30_000 };

export interface OpenAiConnection {
  readonly sdk: OpenAI;
  readonly retry: RetryPolicy;
  readonly requestTimeoutMs: number;
  readonly streamIdleMs: number;
  /** fetch with this connection's idle and overall deadlines (image downloads use it too). */
  readonly fetch: typeof fetch;
  /** Redacts the key (and anything key-shaped) from a text before it goes anywhere. */
  redact(text: string): string;
}

export function createOpenAiClient(options: OpenAiClientOptions): OpenAiConnection {
  const requestTimeoutMs = options.timeouts?.requestMs ?? 60_000;
  const deadlines = { idleMs: options.timeouts?.idleMs ?? 30_000, overallMs: options.timeouts?.overallMs ?? 180_000 };
  const guarded = deadlineFetch(deadlines);
  const sdk = new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseURL ?? null,
    maxRetries: 0,
    timeout: requestTimeoutMs,
    fetch: guarded,
  });
  const key = options.apiKey;
  return {
    sdk,
    fetch: guarded,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    requestTimeoutMs,
    streamIdleMs: options.timeouts?.streamIdleMs ?? 20_000,
    redact: (text) => redactSecrets(text, key),
  };
}

export interface CallDeadlines {
  /** No byte (headers or body) for this long: the call is abandoned. */
  idleMs: number;
  /** From the request to the last byte of the body. */
  overallMs: number;
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * fetch whose every call has an idle and an overall deadline, on top of the caller's signal (the
 * job's). The SDK's own timeout stops counting once headers arrive; this one watches the body too,
 * byte by byte. A call past a deadline fails with a retryable `provider_unavailable`, so it is
 * abandoned and retried like any other provider failure.
 */
export function deadlineFetch(deadlines: CallDeadlines, base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const controller = new AbortController();
    let idleTimer: NodeJS.Timeout | undefined;
    const overallTimer = setTimeout(() => fire('overall'), deadlines.overallMs);
    function stop(): void {
      clearTimeout(idleTimer);
      clearTimeout(overallTimer);
    }
    function fire(which: 'idle' | 'overall'): void {
      stop();
      const message =
        which === 'idle'
          ? `The AI provider sent nothing for ${Math.round(deadlines.idleMs / 1000)} s.`
          : `The AI provider took longer than ${Math.round(deadlines.overallMs / 1000)} s to answer.`;
      controller.abort(new ReelforgeError('provider_unavailable', message, { retryable: true, params: { provider: 'openai', reason: 'stalled' } }));
    }
    const armIdle = (): void => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => fire('idle'), deadlines.idleMs);
    };
    armIdle();
    const signal = init?.signal ? AbortSignal.any([controller.signal, init.signal]) : controller.signal;
    let response: Response;
    try {
      response = await base(input, { ...init, signal });
    } catch (error) {
      stop();
      throw controller.signal.aborted ? controller.signal.reason : error;
    }
    if (!response.body || NULL_BODY_STATUSES.has(response.status)) {
      stop();
      return response;
    }
    armIdle();
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(out) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            stop();
            out.close();
            return;
          }
          armIdle();
          out.enqueue(value);
        } catch (error) {
          stop();
          out.error(controller.signal.aborted ? controller.signal.reason : error);
        }
      },
      async cancel(reason) {
        stop();
        await reader.cancel(reason);
      },
    });
    const guarded = new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    Object.defineProperty(guarded, 'url', { value: response.url });
    return guarded;
  };
}

export function redactSecrets(text: string, key?: string): string {
  let out = text;
  if (key && key.length >= 4) out = out.split(key).join('[redacted]');
  return out.replace(/\b(sk|rk|pk)-[A-Za-z0-9_*-]{6,}/g, '[redacted]');
}

/** What we read from an SDK APIError, typed (the SDK's generic parameters are `any` after instanceof). */
interface ApiFailure {
  status: number;
  code: string;
  type: string;
  param: string;
  message: string;
  headers: Headers | undefined;
}

function apiFailure(error: unknown): ApiFailure | undefined {
  if (!(error instanceof OpenAI.APIError) || error instanceof OpenAI.APIConnectionError || error instanceof OpenAI.APIUserAbortError) {
    return undefined;
  }
  const e = error as { status?: number; code?: string | null; type?: string; param?: string | null; message: string; headers?: Headers };
  return { status: e.status ?? 0, code: e.code ?? '', type: e.type ?? '', param: e.param ?? '', message: e.message, headers: e.headers };
}

// ---------------------------------------------------------------- retry

/** Seconds (`"2"`) or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Full jitter: a uniform delay in [0, min(max, base * 2^attempt)), so herds of clients spread out. */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

interface RetryInfo {
  retryable: boolean;
  retryAfterMs?: number;
}

function retryInfo(error: unknown): RetryInfo {
  if (error instanceof ReelforgeError) return { retryable: error.retryable && error.code === 'provider_unavailable' };
  if (error instanceof OpenAI.APIUserAbortError) return { retryable: false };
  if (error instanceof OpenAI.APIConnectionError) return { retryable: true };
  if (isUnreadableAnswer(error)) return { retryable: true };
  const failure = apiFailure(error);
  if (failure) {
    const status = failure.status;
    if (status === 429 && isQuotaError(failure)) return { retryable: false };
    if (status === 408 || status === 409 || status === 429 || status >= 500) {
      const header = failure.headers?.get('retry-after-ms');
      const retryAfterMs = header && /^\d+$/.test(header) ? Number(header) : parseRetryAfterMs(failure.headers?.get('retry-after'));
      return retryAfterMs === undefined ? { retryable: true } : { retryable: true, retryAfterMs };
    }
  }
  return { retryable: false };
}

/**
 * Runs `attempt` until it succeeds, fails for good, or the attempts run out; every failure that
 * leaves is a ReelforgeError. `attempt` gets its 1-based number (for logs and for stream restarts).
 */
export async function withRetry<T>(
  connection: Pick<OpenAiConnection, 'retry' | 'redact'>,
  what: string,
  attempt: (n: number) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const policy = connection.retry;
  for (let n = 1; ; n++) {
    throwIfCancelled(signal);
    try {
      return await attempt(n);
    } catch (error) {
      if (signal?.aborted) throwIfCancelled(signal);
      const info = retryInfo(error);
      if (!info.retryable) throw toProviderError(error, what, connection.redact);
      if (n >= policy.maxAttempts) throw exhausted(error, what, n, connection.redact);
      if (info.retryAfterMs !== undefined && info.retryAfterMs > policy.maxRetryAfterMs) {
        throw exhausted(error, what, n, connection.redact);
      }
      const delay = info.retryAfterMs ?? backoffDelayMs(n, policy);
      await sleep(delay, signal);
    }
  }
}

function exhausted(error: unknown, what: string, attempts: number, redact: (s: string) => string): ReelforgeError {
  return new ReelforgeError('provider_unavailable', `The AI provider kept failing (${what}); try again in a few minutes.`, {
    retryable: true,
    cause: safeCause(error, redact),
    params: { provider: 'openai', what, attempts },
  });
}

// ---------------------------------------------------------------- error mapping

function isQuotaError(failure: ApiFailure): boolean {
  return failure.code === 'insufficient_quota' || failure.type === 'insufficient_quota';
}

const CONTENT_CODES = new Set(['content_policy_violation', 'moderation_blocked', 'content_filter', 'safety_violation']);

/** A plain Error holding what a log needs (status, code, the provider's words) with secrets removed. */
function safeCause(error: unknown, redact: (s: string) => string): Error {
  const failure = apiFailure(error);
  if (failure) {
    const parts = [`status ${failure.status}`, failure.code ? `code ${failure.code}` : '', failure.type ? `type ${failure.type}` : ''];
    return new Error(redact(`${parts.filter(Boolean).join(', ')}: ${failure.message}`));
  }
  if (error instanceof ReelforgeError) return new Error(redact(`${error.code}: ${error.message}`));
  if (error instanceof Error) return new Error(redact(`${error.name}: ${error.message}`));
  return new Error(redact(String(error)));
}

/** Maps anything the SDK (or our stream handling) threw to a ReelforgeError with a user-safe message. */
export function toProviderError(error: unknown, what: string, redact: (s: string) => string = (s) => s): ReelforgeError {
  if (error instanceof ReelforgeError) return error;
  if (isAbortError(error) || error instanceof OpenAI.APIUserAbortError) {
    return cancelled(undefined, { cause: safeCause(error, redact) });
  }
  const cause = safeCause(error, redact);
  const params = { provider: 'openai', what };
  if (error instanceof OpenAI.APIConnectionError) {
    return new ReelforgeError('provider_unavailable', `The AI provider could not be reached (${what}).`, { retryable: true, cause, params });
  }
  if (isUnreadableAnswer(error)) {
    return new ReelforgeError('provider_unavailable', `The AI provider sent an answer that could not be read (${what}).`, { retryable: true, cause, params });
  }
  const failure = apiFailure(error);
  if (failure) {
    const { status, code } = failure;
    if (status === 401 || status === 403) {
      return new ReelforgeError('provider_refused', 'The AI provider refused the API key: check OPENAI_API_KEY.', {
        cause,
        params: { ...params, reason: 'auth', status },
      });
    }
    if (isQuotaError(failure)) {
      return new ReelforgeError('provider_refused', 'The AI provider account has run out of quota or credit.', {
        cause,
        params: { ...params, reason: 'quota', status },
      });
    }
    if (CONTENT_CODES.has(code) || /safety system|content polic/i.test(failure.message)) {
      return new ReelforgeError('content_policy', 'The AI provider refused this content under its content policy.', {
        cause,
        params: { ...params, reason: 'content_policy', status },
      });
    }
    if (status === 404) {
      return new ReelforgeError('config', `The AI provider does not offer the requested model or endpoint (${what}).`, {
        cause,
        params: { ...params, reason: 'not_found', status },
      });
    }
    if (status === 429 || status >= 500 || status === 408) {
      return new ReelforgeError('provider_unavailable', `The AI provider is busy or failing (${what}); try again later.`, {
        retryable: true,
        cause,
        params: { ...params, status },
      });
    }
    return new ReelforgeError('provider_refused', `The AI provider rejected the request (${what}).`, {
      cause,
      params: { ...params, reason: 'bad_request', status },
    });
  }
  return new ReelforgeError('internal', 'Something went wrong on our side.', { cause });
}

/** A 200 whose body is not the JSON it claims to be (cut short, garbled): the SDK's parse fails. */
function isUnreadableAnswer(error: unknown): boolean {
  return error instanceof SyntaxError;
}

/** True for a 400/422 about one request field, e.g. a server without `json_schema` or `wav` support. */
export function isUnsupportedFieldError(error: unknown, field: string): boolean {
  const failure = apiFailure(error);
  if (!failure || (failure.status !== 400 && failure.status !== 422)) return false;
  return failure.param === field || failure.message.includes(field);
}
