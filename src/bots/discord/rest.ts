/**
 * The REST side of Discord shared by the bot and the worker-side notifier: one way to make a client
 * pointed at DISCORD_API_BASE, rate limits made visible in logs, and Discord errors turned into
 * ReelforgeErrors whose messages and causes never carry a token (interaction tokens sit in URLs).
 */
import { DiscordAPIError, HTTPError, REST, RESTEvents, type APIRequest, type RateLimitData, type ResponseLike } from '@discordjs/rest';
import { ReelforgeError, chatGone, tooLarge } from '../../core/errors.js';
import type { Logger } from '../../log.js';

export type DiscordLog = Logger;

/** Discord's error codes that the adapter reacts to. */
export const DiscordErrorCode = {
  unknownWebhook: 10015,
  unknownMessage: 10008,
  unknownInteraction: 10062,
  cannotEditOthersMessage: 50005,
  invalidWebhookToken: 50027,
  requestTooLarge: 40005,
  alreadyAcknowledged: 40060,
  unknownChannel: 10003,
  missingAccess: 50001,
  missingPermissions: 50013,
} as const;

export interface RestClientOptions {
  token: string;
  /** Base with `/api`, e.g. https://discord.com/api (config.discord.apiBase). */
  apiBase: string;
  /** Per-request timeout; uploads of large videos need more than the 15 s default. */
  timeoutMs?: number;
  log?: DiscordLog;
}

export function createRestClient(options: RestClientOptions): REST {
  const rest = new REST({ api: options.apiBase, timeout: options.timeoutMs ?? 15_000 }).setToken(options.token);
  if (options.log) watchRateLimits(rest, options.log);
  return rest;
}

/** Replaces webhook and interaction tokens in a path or URL. */
export function maskTokens(text: string): string {
  return text
    .replace(/(\/webhooks\/\d+\/)[^/?\s]+/g, '$1:token')
    .replace(/(\/interactions\/\d+\/)[^/?\s]+/g, '$1:token');
}

/**
 * @discordjs/rest waits out 429s itself; this makes them visible. `rateLimited` fires when a
 * known bucket is exhausted, the response hook catches 429s that arrive unannounced.
 */
export function watchRateLimits(rest: REST, log: DiscordLog): void {
  rest.on(RESTEvents.RateLimited, (info: RateLimitData) => {
    log.info('discord rate limit: waiting', {
      route: maskTokens(info.route),
      method: info.method,
      global: info.global,
      scope: info.scope,
      retryAfterMs: Math.round(info.retryAfter),
    });
  });
  rest.on(RESTEvents.Response, (request: APIRequest, response: ResponseLike) => {
    if (response.status !== 429) return;
    log.warn('discord rate limited (429)', {
      route: maskTokens(request.route),
      method: request.method,
      global: response.headers.get('x-ratelimit-global') === 'true',
      retryAfterSec: Number(response.headers.get('retry-after') ?? 0),
    });
  });
}

/** The fields of @discordjs/rest's DiscordAPIError and HTTPError that the adapter reads. */
interface RestFailure {
  kind: 'api' | 'http';
  status: number;
  code?: number;
  method: string;
  url: string;
  message: string;
}

/**
 * Recognises @discordjs/rest errors by shape, not `instanceof`: discord.js loads the CommonJS build
 * of @discordjs/rest while this ESM code gets the ESM build, so the same error comes from two classes.
 */
export function asRestFailure(error: unknown): RestFailure | undefined {
  if (error instanceof DiscordAPIError || error instanceof HTTPError) return fromShape(error, error instanceof DiscordAPIError ? 'api' : 'http');
  if (!(error instanceof Error)) return undefined;
  const kind = error.constructor.name === 'DiscordAPIError' ? 'api' : error.constructor.name === 'HTTPError' ? 'http' : undefined;
  return kind ? fromShape(error, kind) : undefined;
}

function fromShape(error: Error, kind: RestFailure['kind']): RestFailure | undefined {
  const e = error as Error & { status?: unknown; code?: unknown; method?: unknown; url?: unknown };
  if (typeof e.status !== 'number' || typeof e.method !== 'string' || typeof e.url !== 'string') return undefined;
  return {
    kind,
    status: e.status,
    ...(kind === 'api' && e.code !== undefined ? { code: Number(e.code) } : {}),
    method: e.method,
    url: e.url,
    message: error.message,
  };
}

export function isDiscordError(error: unknown, status: number, ...codes: number[]): boolean {
  const failure = asRestFailure(error);
  return (
    failure?.kind === 'api' && failure.status === status && (codes.length === 0 || codes.includes(failure.code ?? Number.NaN))
  );
}

/** The interaction can no longer be answered through its webhook: token expired, or never acknowledged. */
export function isInteractionGone(error: unknown): boolean {
  return (
    isDiscordError(error, 401, DiscordErrorCode.invalidWebhookToken) ||
    isDiscordError(error, 404, DiscordErrorCode.unknownInteraction, DiscordErrorCode.unknownMessage, DiscordErrorCode.unknownWebhook)
  );
}

/** The bot can no longer post in the channel: 403 Missing Access / Missing Permissions, or 404 Unknown Channel. */
export function isChannelGone(error: unknown): boolean {
  return (
    isDiscordError(error, 403, DiscordErrorCode.missingAccess, DiscordErrorCode.missingPermissions) ||
    isDiscordError(error, 404, DiscordErrorCode.unknownChannel)
  );
}

/** A description of a Discord failure that is safe to log: no token, no request body. */
export function describeDiscordError(error: unknown): string {
  const failure = asRestFailure(error);
  if (failure) {
    const where = `Discord ${failure.method.toUpperCase()} ${maskTokens(pathOf(failure.url))} -> ${failure.status}`;
    return failure.kind === 'api' ? `${where} (code ${String(failure.code)}): ${maskTokens(failure.message)}` : where;
  }
  return maskTokens(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

/** Turns whatever a REST call threw into a ReelforgeError with a user-safe message and a masked cause. */
export function toDiscordFailure(error: unknown, limitBytes?: number): ReelforgeError {
  if (error instanceof ReelforgeError) return error;
  const cause = new Error(describeDiscordError(error));
  const failure = asRestFailure(error);
  if (failure?.kind === 'api' && (failure.status === 413 || failure.code === DiscordErrorCode.requestTooLarge)) {
    return tooLarge(undefined, limitBytes, 'The video is larger than this Discord channel accepts.', cause);
  }
  if (isChannelGone(error)) {
    return chatGone('Discord: the bot can no longer post in this channel (removed, or without access or permission).', cause);
  }
  if (failure?.kind === 'api') {
    return new ReelforgeError('internal', 'Discord refused a message from the bot.', { cause });
  }
  // 5xx after @discordjs/rest's own retries, timeouts and network errors: trying later may work.
  return new ReelforgeError('provider_unavailable', 'Discord could not be reached.', { cause, retryable: true });
}
