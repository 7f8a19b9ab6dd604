/**
 * Starts the Telegram bot in the configured mode: long polling (default; src/bots/telegram/poller.ts
 * confirms an update only after its handler has finished), or a webhook on node:http that checks Telegram's secret token on every request. Also registers the
 * command menu (in the background: the bot never waits on it) and relays queue announcements to
 * chats. `stop()` is idempotent.
 *
 * Both modes are supervised: the runner's task is watched, and a condition no retry can fix (409
 * from a rival poller, 401 for a revoked token) goes to `onFatal` with a message naming the cause,
 * so the service shuts down cleanly instead of dying on an unhandled rejection. Transient failures
 * are retried (by the runner and the API client's retry policy).
 */
import { silentLogger, type Logger } from '../../log.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { BotError, type Bot, type Context } from 'grammy';
import type { Update } from 'grammy/types';
import { ReelforgeError } from '../../core/errors.js';
import { retryInBackground, type RetryTiming } from '../shared/background-retry.js';
import { createTelegramBot, type CreateTelegramBotOptions } from './bot.js';
import { registerCommands } from './commands-menu.js';
import { startPolling, type UpdatePoller } from './poller.js';
import { TelegramNotifier } from './notifier.js';
import { telegramUnrecoverable, toTelegramError } from './api.js';
import { relayQueueEvents } from '../../jobs/queue-relay.js';
import { notifierRegistry } from '../../jobs/video-job.js';

export type TelegramMode =
  | { kind: 'polling'; /** getUpdates hold time; Telegram's usual is 30 s. */ timeoutSec?: number }
  | { kind: 'webhook'; url: string; secret: string; port: number; host?: string };

export interface StartTelegramBotOptions extends CreateTelegramBotOptions {
  mode: TelegramMode;
  /** The bot cannot go on (rival poller, revoked token, its server died): the service should shut down. */
  onFatal?: (error: ReelforgeError) => void;
  /** How the command menu's registration is retried (defaults: 15 s an attempt, 10 min in all). */
  commandsRetry?: RetryTiming;
}

export interface RunningTelegramBot {
  bot: Bot;
  notifier: TelegramNotifier;
  /** The webhook server's port (webhook mode). */
  port?: number;
  /** Settles when the command menu is registered, given up on, or the bot stopped (tests). */
  commandsRegistered: Promise<'done' | 'gave_up' | 'stopped' | 'unrecoverable'>;
  stop(): Promise<void>;
}

const ALLOWED_UPDATES = ['message', 'callback_query'] as const;
/** Telegram's updates are small; anything larger is not from Telegram. */
const MAX_UPDATE_BYTES = 1 << 20;
/** On stop, updates still being handled get this long to finish. */
const DRAIN_MS = 10_000;
/** A webhook request waits this long for its update to be handled before it is answered anyway. */
const WEBHOOK_HOLD_MS = 50_000;
/** How long a handled update's id is remembered, to answer Telegram's redelivery at once. */
const HANDLED_MEMORY_MS = 10 * 60_000;

export async function startTelegramBot(options: StartTelegramBotOptions): Promise<RunningTelegramBot> {
  const log = options.log ?? silentLogger();
  const notifier =
    options.notifier ??
    new TelegramNotifier({
      token: options.token,
      ...(options.apiRoot ? { apiRoot: options.apiRoot } : {}),
      ...(options.uploadLimitBytes ? { uploadLimitBytes: options.uploadLimitBytes } : {}),
      log,
    });
  const stopping = new AbortController();
  const bot = createTelegramBot({ ...options, notifier, stopping: stopping.signal });
  let fatalReported = false;
  const fatal = (error: ReelforgeError): void => {
    if (fatalReported) return;
    fatalReported = true;
    if (options.onFatal) options.onFatal(error);
    else log.warn('telegram bot stopped', { code: error.code, error: error.message });
  };
  await essential('reach Telegram (getMe)', () => bot.init());

  const commandsRegistered = retryInBackground({
    what: 'register the Telegram command menu',
    attempt: (signal) => registerCommands(bot.api, signal),
    signal: stopping.signal,
    log,
    ...options.commandsRetry,
    unrecoverable: telegramUnrecoverable,
    onUnrecoverable: fatal,
  });
  const unsubscribe = relayQueueEvents(options.queue, notifierRegistry([notifier]), log);

  let stopped = false;
  const stopCommon = async (): Promise<void> => {
    stopping.abort();
    unsubscribe();
    await commandsRegistered;
  };

  try {
    if (options.mode.kind === 'polling') {
      // getUpdates refuses to work while a webhook is set.
      await essential('remove the webhook', () => bot.api.deleteWebhook());
      // Each update is confirmed to Telegram only once handled (a crash means a redelivery, not a loss).
      const handle = startPolling(bot, { timeoutSec: options.mode.timeoutSec ?? 30, allowedUpdates: ALLOWED_UPDATES, log });
      watchRunner(handle, fatal, () => stopped);
      return {
        bot,
        notifier,
        commandsRegistered,
        stop: async () => {
          if (stopped) return;
          stopped = true;
          await stopCommon();
          await handle.stop(DRAIN_MS);
        },
      };
    }

    const mode = options.mode;
    const hook = await startWebhookServer(bot, mode, log, fatal);
    await essential('set the webhook', () => bot.api.setWebhook(mode.url, { secret_token: mode.secret, allowed_updates: ALLOWED_UPDATES })).catch(async (error: unknown) => {
      await hook.close();
      throw error;
    });
    return {
      bot,
      notifier,
      port: hook.port,
      commandsRegistered,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await stopCommon();
        await hook.close();
      },
    };
  } catch (error) {
    stopped = true;
    await stopCommon();
    throw error;
  }
}

/** A start-up call the bot cannot work without: an unrecoverable answer becomes a clear config error. */
async function essential<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error: unknown) {
    throw telegramUnrecoverable(error) ?? toTelegramError(error, what);
  }
}

/** The poller retries transient fetch failures itself; its task ends in an error only for 401 or 409. */
function watchRunner(handle: UpdatePoller, fatal: (error: ReelforgeError) => void, stopped: () => boolean): void {
  const task = handle.task();
  if (!task) return;
  task.then(
    () => {
      if (!stopped()) fatal(new ReelforgeError('internal', 'Telegram long polling ended unexpectedly.'));
    },
    (error: unknown) => {
      if (stopped()) return;
      fatal(telegramUnrecoverable(error) ?? toTelegramError(error, 'receive updates'));
    },
  );
}

interface WebhookServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The webhook endpoint. An update is answered 200 only once it has been handled (a /video is
 * enqueued), so a crash before then makes Telegram deliver it again instead of losing it; the
 * idempotency key turns that redelivery into the same job. A slow update never kills the process
 * (our own server has no handler timeout); if Telegram gives up waiting and sends the update again
 * while it is still being handled, the second request waits for the same handling, and one handled
 * in the last minutes is answered at once. Only an update still unhandled after `WEBHOOK_HOLD_MS`
 * is answered before it is done (so a request is never held past Telegram's own timeout); a crash in
 * that residue of time can still lose it.
 */
async function startWebhookServer(
  bot: Bot,
  mode: Extract<TelegramMode, { kind: 'webhook' }>,
  log: Logger,
  fatal: (error: ReelforgeError) => void,
): Promise<WebhookServer> {
  const inFlight = new Map<number, Promise<void>>();
  /** update_id -> when it was handled; a redelivery of one of these is answered 200 at once. */
  const handled = new Map<number, number>();
  const expected = Buffer.from(mode.secret);
  let closing = false;

  const handleUpdate = async (update: Update): Promise<void> => {
    try {
      await bot.handleUpdate(update);
    } catch (error: unknown) {
      if (error instanceof BotError) await bot.errorHandler(error as BotError<Context>);
      else log.error('telegram update failed', { updateId: update.update_id, error: String(error) });
    }
  };

  const remember = (id: number): void => {
    const now = Date.now();
    handled.set(id, now);
    for (const [key, at] of handled) {
      if (handled.size <= 10_000 && now - at < HANDLED_MEMORY_MS) break;
      handled.delete(key);
    }
  };

  const receive = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') return answer(res, 405, 'method not allowed');
    const header = req.headers['x-telegram-bot-api-secret-token'];
    const given = Buffer.from(typeof header === 'string' ? header : '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return answer(res, 401, 'unauthorized');
    if (closing) return answer(res, 503, 'shutting down'); // Telegram delivers it again later.
    const update = await readUpdate(req);
    if (!update) return answer(res, 400, 'bad update');
    const id = update.update_id;
    if (handled.has(id)) return answer(res, 200, 'ok');
    let work = inFlight.get(id);
    if (!work) {
      work = handleUpdate(update)
        .catch((error: unknown) => log.error('telegram update failed', { updateId: id, error: String(error) }))
        .finally(() => {
          inFlight.delete(id);
          remember(id);
        });
      inFlight.set(id, work);
    }
    let timer: NodeJS.Timeout | undefined;
    const held = await Promise.race([
      work.then(() => 'done' as const),
      new Promise<'held'>((resolve) => (timer = setTimeout(() => resolve('held'), WEBHOOK_HOLD_MS))),
    ]);
    clearTimeout(timer);
    if (held === 'held') log.warn('telegram update still being handled; acknowledged before it finished', { updateId: id });
    answer(res, 200, 'ok');
  };

  const server: Server = createServer((req, res) => {
    // Every failure is answered inside; this catch is the last net for the request itself.
    void receive(req, res).catch((error: unknown) => {
      log.warn('telegram webhook request failed', { error: String(error) });
      answer(res, 500, 'error');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(mode.port, mode.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error: Error) => {
    if (!closing) fatal(new ReelforgeError('internal', 'The Telegram webhook server failed.', { cause: error }));
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      if (closing) return;
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Updates already acknowledged finish (their replies go out) before the process goes.
      const drained = Promise.all([...inFlight.values()]).then(() => undefined);
      const timer = new Promise<void>((resolve) => setTimeout(resolve, DRAIN_MS).unref());
      await Promise.race([drained, timer]);
      server.closeAllConnections();
      await closed;
    },
  };
}

function answer(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify(text);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readUpdate(req: IncomingMessage): Promise<Update | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_UPDATE_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  try {
    const value = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (typeof value !== 'object' || value === null || typeof (value as { update_id?: unknown }).update_id !== 'number') return undefined;
    return value as Update;
  } catch {
    return undefined;
  }
}
