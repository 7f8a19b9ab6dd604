/** Admin commands: /tier, /captions, /stats, /queue, /cancel <job>. Anyone else gets a polite refusal. */
import { Composer, type Context } from 'grammy';
import { isCaptionStyle } from '../../core/caption-style.js';
import { toReelforgeError } from '../../core/errors.js';
import { formatQueue, formatStats, parseTierArgs, type TierArgs } from '../shared/admin.js';
import { botTexts, errorText } from '../shared/i18n.js';
import type { TierScope } from '../../store/settings.js';
import { isAdminCtx, localeOf, replyTo, type TelegramBotDeps } from './deps.js';

/** Telegram refuses longer messages (400 "message is too long"). */
const TELEGRAM_MAX_TEXT = 4096;

export function adminCommands(deps: TelegramBotDeps): Composer<Context> {
  const composer = new Composer();
  const admins = composer.filter((ctx) => isAdminCtx(deps, ctx));

  admins.command('tier', async (ctx) => {
    const locale = localeOf(ctx);
    const t = botTexts(locale);
    const replied = repliedAuthor(ctx);
    let args: TierArgs;
    try {
      args = parseTierArgs(ctx.match, { hasReply: replied !== undefined });
    } catch (error) {
      await ctx.reply(errorText(toReelforgeError(error), locale), replyTo(ctx));
      return;
    }
    let scope: TierScope;
    let label: string;
    switch (args.target.kind) {
      case 'chat':
        scope = { kind: 'chat', platform: 'telegram', chatId: String(ctx.chat.id) };
        label = t.thisChat;
        break;
      case 'user':
        scope = { kind: 'user', platform: 'telegram', userId: args.target.userId };
        label = args.target.userId;
        break;
      case 'reply': {
        if (!replied) return;
        scope = { kind: 'user', platform: 'telegram', userId: String(replied.id) };
        label = replied.username ? `@${replied.username}` : replied.first_name;
        break;
      }
      case 'username': {
        const userId = await deps.settings.findUser('telegram', args.target.username);
        if (!userId) {
          await ctx.reply(t.userNotFound(`@${args.target.username}`), replyTo(ctx));
          return;
        }
        scope = { kind: 'user', platform: 'telegram', userId };
        label = `@${args.target.username}`;
        break;
      }
    }
    await deps.settings.setTier(scope, args.tier);
    await ctx.reply(t.tierSet(label, args.tier), replyTo(ctx));
  });

  // The chat's default caption style, for every /video here that names none.
  admins.command('captions', async (ctx) => {
    const t = botTexts(localeOf(ctx));
    const chatId = String(ctx.chat.id);
    const choice = ctx.match.trim().toLowerCase().split(/\s+/)[0] ?? '';
    if (choice === 'auto' || isCaptionStyle(choice)) {
      await deps.settings.setCaptions('telegram', chatId, choice);
      await ctx.reply(t.captionsSet(choice), replyTo(ctx));
      return;
    }
    await ctx.reply(t.captionsUsage(await deps.settings.getCaptions('telegram', chatId)), replyTo(ctx));
  });

  admins.command('stats', async (ctx) => {
    const [queue, usage] = await Promise.all([deps.queue.stats(), deps.settings.stats()]);
    await ctx.reply(formatStats(queue, usage, localeOf(ctx)), replyTo(ctx));
  });

  admins.command('queue', async (ctx) => {
    await ctx.reply(formatQueue(await deps.queue.list(), localeOf(ctx), TELEGRAM_MAX_TEXT), replyTo(ctx));
  });

  admins.command('cancel', async (ctx) => {
    const t = botTexts(localeOf(ctx));
    const jobId = ctx.match.trim().split(/\s+/)[0] ?? '';
    if (!jobId) {
      await ctx.reply(t.cancelUsage, replyTo(ctx));
      return;
    }
    // The job's own chat hears of it from the job (running) or the queue relay (waiting), on any platform.
    const cancelled = await deps.queue.cancel(jobId);
    await ctx.reply(cancelled ? t.jobCancelled(jobId) : t.jobNotFound(jobId.slice(0, 40)), replyTo(ctx));
  });
  // Only non-admins get this far.
  composer.command(['tier', 'captions', 'stats', 'queue', 'cancel'], async (ctx) => {
    await ctx.reply(botTexts(localeOf(ctx)).adminOnly, replyTo(ctx));
  });
  return composer;
}

/** The author of the message this command replies to; a forum topic's opening message does not count. */
function repliedAuthor(ctx: Context): NonNullable<Context['from']> | undefined {
  const reply = ctx.msg?.reply_to_message;
  if (!reply || reply.forum_topic_created || reply.from?.is_bot) return undefined;
  return reply.from;
}
