/** What the Telegram bot's command modules need: the queue, the settings, admins and the notifier. */
import type { Context } from 'grammy';
import type { JobQueue } from '../../queue/types.js';
import type { Logger } from '../../log.js';
import type { SettingsStore } from '../../store/settings.js';
import { isAdmin } from '../shared/admin.js';
import { pickLocale, type BotLocale } from '../shared/i18n.js';
import type { TelegramNotifier } from './notifier.js';
import type { StoryboardService } from '../shared/storyboard-drafts.js';

export type Log = Logger;

export interface TelegramBotDeps {
  queue: JobQueue;
  settings: SettingsStore;
  /** Entries such as `telegram:123` (config.adminIds). */
  adminIds: ReadonlySet<string>;
  notifier: TelegramNotifier;
  log: Log;
  /** /storyboard and the buttons under delivered videos; absent: no /storyboard. */
  storyboards?: StoryboardService;
  /** Aborted when the bot stops: background work (storyboard expiry) ends. */
  stopping?: AbortSignal;
}

export function localeOf(ctx: Context): BotLocale {
  return pickLocale(ctx.from?.language_code);
}

export function isAdminCtx(deps: TelegramBotDeps, ctx: Context): boolean {
  return ctx.from !== undefined && isAdmin(deps.adminIds, 'telegram', ctx.from.id);
}

/** Replies go to the command's forum topic (ctx.reply keeps it) and quote the command. */
export function replyTo(ctx: Context): { reply_parameters?: { message_id: number; allow_sending_without_reply: boolean } } {
  const id = ctx.msg?.message_id;
  return id === undefined ? {} : { reply_parameters: { message_id: id, allow_sending_without_reply: true } };
}

/** The forum topic of the message, when it was sent in one. */
export function topicOf(ctx: Context): number | undefined {
  const msg = ctx.msg;
  return msg?.is_topic_message ? msg.message_thread_id : undefined;
}
