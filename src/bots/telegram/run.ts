/**
 * Starts the Telegram bot in the configured mode: long polling with @grammyjs/runner (default), or
 * a webhook on node:http that checks Telegram's secret token on every request. Also registers the
 * command menu and relays queue announcements to chats. `stop()` is idempotent.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { run, type RunnerHandle } from '@grammyjs/runner';
import { webhookCallback, type Bot } from 'grammy';
import { createTelegramBot, type CreateTelegramBotOptions } from './bot.js';
import { registerCommands } from './commands-menu.js';
import { TelegramNotifier } from './notifier.js';
import { relayQueueEvents } from '../../jobs/queue-relay.js';
import { notifierRegistry } from '../../jobs/video-job.js';

export type TelegramMode =
  | { kind: 'polling'; /** getUpdates hold time; Telegram's usual is 30 s. */ timeoutSec?: number }
  | { kind: 'webhook'; url: string; secret: string; port: number; host?: string };

export interface StartTelegramBotOptions extends CreateTelegramBotOptions {
  mode: TelegramMode;
}

export interface RunningTelegramBot {
  bot: Bot;
  notifier: TelegramNotifier;
  /** The webhook server's port (webhook mode). */
  port?: number;
  stop(): Promise<void>;
}

const ALLOWED_UPDATES = ['message', 'callback_query'] as const;

export async function startTelegramBot(options: StartTelegramBotOptions): Promise<RunningTelegramBot> {
  const notifier =
    options.notifier ??
    new TelegramNotifier({
      token: options.token,
      ...(options.apiRoot ? { apiRoot: options.apiRoot } : {}),
      ...(options.uploadLimitBytes ? { uploadLimitBytes: options.uploadLimitBytes } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
  const bot = createTelegramBot({ ...options, notifier });
  await bot.init();
  await registerCommands(bot.api);
  const unsubscribe = relayQueueEvents(options.queue, notifierRegistry([notifier]), options.log);

  let stopped = false;
  if (options.mode.kind === 'polling') {
    // getUpdates refuses to work while a webhook is set.
    await bot.api.deleteWebhook();
    const handle: RunnerHandle = run(bot, {
      runner: { fetch: { timeout: options.mode.timeoutSec ?? 30, allowed_updates: ALLOWED_UPDATES }, silent: true },
    });
    return {
      bot,
      notifier,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        unsubscribe();
        if (handle.isRunning()) await handle.stop();
      },
    };
  }

  const { url, secret, port, host } = options.mode;
  const server: Server = createServer(webhookCallback(bot, 'http', { secretToken: secret }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host ?? '0.0.0.0', () => resolve());
  });
  await bot.api.setWebhook(url, { secret_token: secret, allowed_updates: ALLOWED_UPDATES });
  return {
    bot,
    notifier,
    port: (server.address() as AddressInfo).port,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
