/**
 * The Telegram bot: a grammY `Bot` built from small composer modules. Handlers parse, enqueue and
 * answer; a job's progress and video reach the chat through the TelegramNotifier, from whichever
 * process runs the job.
 */
import { silentLogger } from '../../log.js';
import { sequentialize } from '@grammyjs/runner';
import { Bot, type Context } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import type { JobQueue } from '../../queue/types.js';
import type { SettingsStore } from '../../store/settings.js';
import { adminCommands } from './admin-commands.js';
import { DEFAULT_API_ROOT, installRetry, stripSlash } from './api.js';
import { cancelButton } from './cancel-button.js';
import type { Log, TelegramBotDeps } from './deps.js';
import { helpCommands } from './help-commands.js';
import { TelegramNotifier } from './notifier.js';
import { videoCommand } from './video-command.js';
import { storyboardCommand } from './storyboard-command.js';
import { remakeButtons } from './remake-buttons.js';
import type { StoryboardService } from '../shared/storyboard-drafts.js';

export interface CreateTelegramBotOptions {
  token: string;
  apiRoot?: string;
  queue: JobQueue;
  settings: SettingsStore;
  adminIds: ReadonlySet<string>;
  /** Skips getMe (tests, or a known bot). */
  botInfo?: UserFromGetMe;
  /** Share one notifier with the job processor so both respect the same per-chat pacing. */
  notifier?: TelegramNotifier;
  uploadLimitBytes?: number;
  log?: Log;
  /** /storyboard and the buttons under delivered videos. */
  storyboards?: StoryboardService;
  /** Aborted when the bot stops (ends background timers). */
  stopping?: AbortSignal;
}

export function createTelegramBot(options: CreateTelegramBotOptions): Bot {
  const bot = new Bot(options.token, {
    client: { apiRoot: stripSlash(options.apiRoot ?? DEFAULT_API_ROOT) },
    ...(options.botInfo ? { botInfo: options.botInfo } : {}),
  });
  installRetry(bot.api);
  const log = options.log ?? silentLogger();
  const deps: TelegramBotDeps = {
    queue: options.queue,
    settings: options.settings,
    adminIds: options.adminIds,
    notifier:
      options.notifier ??
      new TelegramNotifier({ api: bot.api, log, ...(options.uploadLimitBytes ? { uploadLimitBytes: options.uploadLimitBytes } : {}) }),
    log,
    ...(options.storyboards ? { storyboards: options.storyboards } : {}),
    ...(options.stopping ? { stopping: options.stopping } : {}),
  };

  // One update per chat at a time (the runner processes updates concurrently otherwise).
  bot.use(sequentialize((ctx: Context) => (ctx.chat ? String(ctx.chat.id) : undefined)));
  bot.use(rememberUsernames(deps));
  bot.use(helpCommands(deps), videoCommand(deps), storyboardCommand(deps), remakeButtons(deps), adminCommands(deps), cancelButton(deps));

  bot.catch((error) => {
    // The error names the update and the method, never the token.
    log.error('telegram update failed', { updateId: error.ctx.update.update_id, error: String(error.error) });
  });
  return bot;
}

/** Remembers @username → id for `/tier @user`; each pair is written once per process. */
function rememberUsernames(deps: TelegramBotDeps): (ctx: Context, next: () => Promise<void>) => Promise<void> {
  const seen = new Set<string>();
  return async (ctx, next) => {
    const from = ctx.from;
    if (from?.username && !from.is_bot) {
      const key = `${from.username}:${from.id}`;
      if (!seen.has(key)) {
        seen.add(key);
        await deps.settings.rememberUser('telegram', from.username, String(from.id)).catch((error: unknown) => {
          seen.delete(key);
          deps.log.warn('remember username failed', { error: String(error) });
        });
      }
    }
    await next();
  };
}
