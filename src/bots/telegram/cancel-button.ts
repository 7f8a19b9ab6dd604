/** The Cancel button under a progress message: the requester or an admin may press it. */
import { Composer, type Context } from 'grammy';
import { botTexts } from '../shared/i18n.js';
import { isAdminCtx, localeOf, type TelegramBotDeps } from './deps.js';
import { CANCEL_PREFIX } from './notifier.js';

export function cancelButton(deps: TelegramBotDeps): Composer<Context> {
  const composer = new Composer();
  composer.callbackQuery(new RegExp(`^${CANCEL_PREFIX}(\\S+)$`), async (ctx) => {
    const t = botTexts(localeOf(ctx));
    const jobId = ctx.match[1] ?? '';
    const info = await deps.queue.get(jobId);
    if (!info || (info.state !== 'waiting' && info.state !== 'active')) {
      await ctx.answerCallbackQuery({ text: t.cancelUnknown });
      return;
    }
    const owner = info.data.owner;
    const isOwner = owner.platform === 'telegram' && owner.userId === String(ctx.from.id);
    if (!isOwner && !isAdminCtx(deps, ctx)) {
      await ctx.answerCallbackQuery({ text: t.cancelRefused, show_alert: true });
      return;
    }
    // The progress message says "Cancelled" from the job (running) or the queue relay (waiting), not from here.
    const cancelled = await deps.queue.cancel(jobId);
    await ctx.answerCallbackQuery({ text: cancelled ? t.cancelled : t.cancelUnknown });
  });
  // A button from an older version of the bot: answer it, or the client shows a spinner.
  composer.on('callback_query:data', async (ctx) => {
    await ctx.answerCallbackQuery({ text: botTexts(localeOf(ctx)).cancelUnknown });
  });
  return composer;
}
