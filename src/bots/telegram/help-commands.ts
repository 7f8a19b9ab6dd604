/** /start and /help: what the bot does, with examples, in the user's language. */
import { Composer, type Context } from 'grammy';
import { botTexts } from '../shared/i18n.js';
import { isAdminCtx, localeOf, replyTo, type TelegramBotDeps } from './deps.js';

export function helpCommands(deps: TelegramBotDeps): Composer<Context> {
  const composer = new Composer();
  composer.command(['start', 'help'], async (ctx) => {
    const text = botTexts(localeOf(ctx)).help({ style: 'telegram', isAdmin: isAdminCtx(deps, ctx) });
    await ctx.reply(text, replyTo(ctx));
  });
  return composer;
}
