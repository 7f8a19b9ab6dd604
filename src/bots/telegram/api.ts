/**
 * The Bot API client setup shared by the bot and the notifier: one place decides the retry policy
 * and how Telegram's error texts are recognised.
 */
import { autoRetry } from '@grammyjs/auto-retry';
import { Api, GrammyError, HttpError, type Transformer } from 'grammy';
import { ReelforgeError, chatGone, tooLarge } from '../../core/errors.js';
import { sleep } from '../../core/sleep.js';

export const DEFAULT_API_ROOT = 'https://api.telegram.org';

/** 429s wait out `retry_after` up to this long; a longer wait fails the call instead of stalling a chat. */
export const RETRY_POLICY = { maxDelaySeconds: 30, maxRetryAttempts: 3, rethrowHttpErrors: true } as const;

/**
 * Telegram unreachable (a network error, a dropped connection): retried this many times after these
 * waits, then the call fails with an HttpError the caller turns into a retryable error. auto-retry on
 * its own would retry such a call forever (backing off up to an hour), stalling the chat behind it.
 */
export const NETWORK_RETRY_DELAYS_MS = [1000, 2000, 4000] as const;

/** The long poll has its own loop and backoff (poller.ts); a retry here would only hide its errors. */
const OWN_RETRY = new Set(['getUpdates']);

export function retryNetworkErrors(delaysMs: readonly number[] = NETWORK_RETRY_DELAYS_MS): Transformer {
  return async (prev, method, payload, signal) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await prev(method, payload, signal);
      } catch (error: unknown) {
        const delay = delaysMs[attempt];
        if (!(error instanceof HttpError) || delay === undefined || signal?.aborted || OWN_RETRY.has(method)) throw error;
        // grammY types its signal with the abort-controller shim; at run time it is the native one.
        await sleep(delay, signal as AbortSignal | undefined).catch(() => {
          throw error;
        });
      }
    }
  };
}

export interface TelegramApiOptions {
  token: string;
  /** Another Bot API server: a local one in production, the fake in tests. No trailing slash. */
  apiRoot?: string;
}

export function installRetry(api: Api): Api {
  // Installed last, so it wraps auto-retry: each network retry gets auto-retry's 429/5xx handling.
  api.config.use(autoRetry(RETRY_POLICY), retryNetworkErrors());
  return api;
}

/** An `Api` (no update loop) with the retry policy installed: enough for a worker to notify chats. */
export function createTelegramApi(options: TelegramApiOptions): Api {
  return installRetry(new Api(options.token, { apiRoot: stripSlash(options.apiRoot ?? DEFAULT_API_ROOT) }));
}

export function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function described(error: unknown, text: string): boolean {
  return error instanceof GrammyError && error.description.toLowerCase().includes(text);
}

/** "message is not modified": the edit would change nothing; not an error for us. */
export function isNotModified(error: unknown): boolean {
  return described(error, 'message is not modified');
}

/** The message was deleted (or never existed): "message to edit not found". */
export function isMessageGone(error: unknown): boolean {
  return described(error, 'message to edit not found') || described(error, 'message to delete not found');
}

/**
 * The bot can no longer post in the chat: 403 ("bot was kicked from the group chat", "bot was
 * blocked by the user", "bot is not a member ..."), or the chat no longer exists.
 */
export function isChatGoneError(error: unknown): boolean {
  return error instanceof GrammyError && (error.error_code === 403 || described(error, 'chat not found'));
}

/** Turns a failed Bot API call into a ReelforgeError that is safe to show (the token never appears). */
export function toTelegramError(error: unknown, what: string, limitBytes?: number): ReelforgeError {
  if (error instanceof ReelforgeError) return error;
  if (error instanceof GrammyError) {
    if (isChatGoneError(error)) return chatGone(`Telegram refused to ${what}: ${error.description}`, error);
    if (error.error_code === 413) {
      return tooLarge(undefined, limitBytes, 'The video is larger than this chat accepts.', error);
    }
    const retryable = error.error_code === 429 || error.error_code >= 500;
    return new ReelforgeError(retryable ? 'provider_unavailable' : 'internal', `Telegram refused to ${what}: ${error.description}`, {
      retryable,
      cause: error,
    });
  }
  if (error instanceof HttpError) {
    return new ReelforgeError('provider_unavailable', `Telegram could not be reached to ${what}.`, { retryable: true, cause: error });
  }
  return new ReelforgeError('internal', `Could not ${what}.`, { cause: error });
}

/**
 * A Bot API answer that no retry can fix, as a clear config error naming the cause: 401 (the token
 * is wrong or was revoked) or 409 (another process polls with this token, or a webhook is set).
 */
export function telegramUnrecoverable(error: unknown): ReelforgeError | undefined {
  if (!(error instanceof GrammyError)) return undefined;
  if (error.error_code === 401) {
    return new ReelforgeError('config', 'Telegram refused the bot token (401 Unauthorized): check TELEGRAM_BOT_TOKEN; it may have been revoked.', {
      cause: error,
    });
  }
  if (error.error_code === 409) {
    return new ReelforgeError(
      'config',
      'Telegram: another process is receiving updates with this bot token (409 Conflict: terminated by other getUpdates request). ' +
        'Only one "reelforge bot" may poll per token: run further processes as "reelforge worker" (with REDIS_URL), or use webhook mode.',
      { cause: error },
    );
  }
  return undefined;
}
