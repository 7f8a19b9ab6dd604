/**
 * /video <seconds> <topic>: validate, apply an admin tier override, answer at once with the
 * progress message, enqueue, show the place in line. It never waits for the render.
 */
import { Composer, type Context } from 'grammy';
import type { TelegramTarget } from '../../core/chat-target.js';
import { toReelforgeError } from '../../core/errors.js';
import { applyProgress, emptySnapshot } from '../../core/progress.js';
import { parseVideoCommandText, validateVideoRequest, type VideoRequest } from '../../core/request.js';
import { botTexts, errorText } from '../shared/i18n.js';
import { localeOf, replyTo, topicOf, type TelegramBotDeps } from './deps.js';

export function videoCommand(deps: TelegramBotDeps): Composer<Context> {
  const composer = new Composer();
  composer.command('video', async (ctx) => {
    const from = ctx.from;
    if (!from) return;
    const locale = localeOf(ctx);
    let request: VideoRequest;
    try {
      const parsed = parseVideoCommandText(ctx.match);
      request = validateVideoRequest({ topic: parsed.topic, ...(parsed.duration !== undefined ? { duration: parsed.duration } : {}) });
    } catch (error) {
      await ctx.reply(errorText(toReelforgeError(error), locale), replyTo(ctx));
      return;
    }
    const userId = String(from.id);
    const chatId = String(ctx.chat.id);
    try {
      const tier = await deps.settings.getTier({ platform: 'telegram', userId, chatId });
      if (tier) request = { ...request, tier };
    } catch (error) {
      // A settings outage must not stop videos: go on with the automatic tier.
      deps.log('tier lookup failed', { error: String(error) });
    }

    const progress = await ctx.reply(botTexts(locale).accepted, replyTo(ctx));
    const threadId = topicOf(ctx);
    const target: TelegramTarget = {
      platform: 'telegram',
      chatId: ctx.chat.id,
      ...(threadId !== undefined ? { threadId } : {}),
      replyToMessageId: ctx.msg.message_id,
      progressMessageId: progress.message_id,
      locale,
    };
    const displayName = from.username ? `@${from.username}` : from.first_name;
    try {
      const queued = await deps.queue.enqueue(
        { request, owner: { platform: 'telegram', userId, chatId, displayName }, target, createdAt: Date.now() },
        { idempotencyKey: `telegram:${chatId}:${ctx.msg.message_id}` },
      );
      if (queued.duplicate) {
        // The same update came twice (a restart before its offset was confirmed): the first
        // progress message follows the job, so this second one goes.
        await ctx.api.deleteMessage(ctx.chat.id, progress.message_id).catch(() => undefined);
        return;
      }
      if (queued.position > 0) {
        const snapshot = applyProgress(emptySnapshot(), { type: 'queued', position: queued.position, etaSec: queued.etaSec });
        await deps.notifier.progress(target, snapshot, queued.id);
      }
    } catch (error) {
      // queue_full, user_limit, or the queue is down: the progress message becomes the answer.
      await deps.notifier.fail(target, toReelforgeError(error));
    }
  });
  return composer;
}
