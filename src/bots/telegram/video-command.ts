/**
 * /video <seconds> <topic>: parsed here, then the shared submission flow (validate,
 * acknowledge with the progress message, tier override, enqueue). It never waits for the render.
 */
import { Composer, type Context } from 'grammy';
import type { TelegramTarget } from '../../core/chat-target.js';
import { parseVideoCommandText, type RawVideoRequest } from '../../core/request.js';
import { botTexts, errorText } from '../shared/i18n.js';
import { submitVideo } from '../shared/submit-video.js';
import { localeOf, replyTo, topicOf, type TelegramBotDeps } from './deps.js';

export function videoCommand(deps: TelegramBotDeps): Composer<Context> {
  const composer = new Composer();
  composer.command('video', async (ctx) => {
    const from = ctx.from;
    if (!from) return;
    const locale = localeOf(ctx);
    const chatId = ctx.chat.id;
    const messageId = ctx.msg.message_id;
    const parsed = parseVideoCommandText(ctx.match);
    const raw: RawVideoRequest = { topic: parsed.topic, ...(parsed.duration !== undefined ? { duration: parsed.duration } : {}) };
    const threadId = topicOf(ctx);
    await submitVideo<TelegramTarget>(deps, {
      raw,
      owner: { platform: 'telegram', userId: String(from.id), chatId: String(chatId), displayName: from.username ? `@${from.username}` : from.first_name },
      idempotencyKey: `telegram:${chatId}:${messageId}`,
      notifier: deps.notifier,
      refuse: async (error) => {
        await ctx.reply(errorText(error, locale), replyTo(ctx));
      },
      acknowledge: async () => {
        const progress = await ctx.reply(botTexts(locale).accepted, replyTo(ctx));
        return {
          platform: 'telegram',
          chatId,
          ...(threadId !== undefined ? { threadId } : {}),
          replyToMessageId: messageId,
          progressMessageId: progress.message_id,
          locale,
        };
      },
      // The same update came twice (a restart before its offset was confirmed): the first
      // progress message follows the job, so this second one goes.
      duplicate: async (target) => {
        if (target.progressMessageId !== undefined) await ctx.api.deleteMessage(chatId, target.progressMessageId).catch(() => undefined);
      },
    });
  });
  return composer;
}
