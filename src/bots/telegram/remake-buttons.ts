/**
 * The buttons under a delivered video: 🔁 Re-roll a scene (pick its number: a new picture for it),
 * ✏️ Edit a line (reply to the video "3: <new line>" or "3 picture: <what it shows>"), 🎙 Voice (pick
 * one: every line spoken again). Each makes a new video, replying to the old one, as an ordinary job
 * (admission, fairness, limits) that re-makes only what the change made stale. Requester or admin only.
 */
import { Composer, type Context } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { TelegramTarget } from '../../core/chat-target.js';
import { toReelforgeError } from '../../core/errors.js';
import { readKeptStoryboard, type KeptStoryboard } from '../../jobs/job-storyboards.js';
import { applyChanges, storyboardRequest, type StoryboardChange } from '../../pipeline/storyboard.js';
import { errorText, storyboardTexts } from '../shared/i18n.js';
import { mayControl, parseEdit } from '../shared/storyboard-drafts.js';
import { submitVideo } from '../shared/submit-video.js';
import { isNotModified } from './api.js';
import { localeOf, replyTo, type TelegramBotDeps } from './deps.js';
import { REMAKE_PREFIX, remakeKeyboard } from './notifier.js';

const ACTION = new RegExp(`^${REMAKE_PREFIX}(roll|edit|voice|back|scene|use):([A-Za-z0-9]+)(?::(.+))?$`);

function scenesKeyboard(jobId: string, scenes: number, locale: string): InlineKeyboardMarkup {
  const numbers = Array.from({ length: scenes }, (_, i) => ({ text: String(i + 1), callback_data: `${REMAKE_PREFIX}scene:${jobId}:${i + 1}` }));
  const rows = [];
  for (let i = 0; i < numbers.length; i += 6) rows.push(numbers.slice(i, i + 6));
  return { inline_keyboard: [...rows, [{ text: storyboardTexts(locale).back, callback_data: `${REMAKE_PREFIX}back:${jobId}` }]] };
}

function voicesKeyboard(jobId: string, voices: readonly string[], locale: string): InlineKeyboardMarkup {
  const buttons = voices.map((voice) => ({ text: voice, callback_data: `${REMAKE_PREFIX}use:${jobId}:${voice}` }));
  const rows = [];
  for (let i = 0; i < buttons.length; i += 3) rows.push(buttons.slice(i, i + 3));
  return { inline_keyboard: [...rows, [{ text: storyboardTexts(locale).back, callback_data: `${REMAKE_PREFIX}back:${jobId}` }]] };
}

/** The job a delivered video came from, read from its own buttons (a reply to the video names no job). */
function jobOfVideo(message: { reply_markup?: InlineKeyboardMarkup } | undefined): string | undefined {
  for (const row of message?.reply_markup?.inline_keyboard ?? []) {
    for (const button of row) {
      const data = 'callback_data' in button ? button.callback_data : undefined;
      const match = data ? ACTION.exec(data) : null;
      if (match) return match[2];
    }
  }
  return undefined;
}

export function remakeButtons(deps: TelegramBotDeps): Composer<Context> {
  const composer = new Composer();
  const service = deps.storyboards;
  if (!service) return composer;

  /** Queues the re-make: a new progress message and, later, a new video, both replying to the old video. */
  const remake = async (
    ctx: Context,
    video: { chatId: number; messageId: number; threadId?: number },
    jobId: string,
    kept: KeptStoryboard,
    change: StoryboardChange,
    idempotencyKey: string,
  ): Promise<void> => {
    const from = ctx.from;
    if (!from) return;
    const locale = localeOf(ctx);
    const reply = { reply_parameters: { message_id: video.messageId, allow_sending_without_reply: true }, ...(video.threadId !== undefined ? { message_thread_id: video.threadId } : {}) };
    await submitVideo<TelegramTarget>(deps, {
      raw: {},
      // The change is checked here (a scene the video does not have is refused at once) and again by the worker.
      prepared: { request: storyboardRequest(applyChanges(kept.storyboard, [change])), remake: { fromJobId: jobId, changes: [change] } },
      owner: { platform: 'telegram', userId: String(from.id), chatId: String(video.chatId), displayName: from.username ? `@${from.username}` : from.first_name },
      idempotencyKey,
      notifier: deps.notifier,
      refuse: async (error) => {
        await ctx.api.sendMessage(video.chatId, errorText(error, locale), reply);
      },
      acknowledge: async () => {
        const progress = await ctx.api.sendMessage(video.chatId, storyboardTexts(locale).remaking, reply);
        return {
          platform: 'telegram',
          chatId: video.chatId,
          ...(video.threadId !== undefined ? { threadId: video.threadId } : {}),
          replyToMessageId: video.messageId,
          progressMessageId: progress.message_id,
          locale,
        };
      },
    });
  };

  const setKeyboard = async (ctx: Context, markup: InlineKeyboardMarkup): Promise<void> => {
    await ctx.editMessageReplyMarkup({ reply_markup: markup }).catch((error: unknown) => {
      if (!isNotModified(error)) throw error;
    });
  };

  composer.callbackQuery(ACTION, async (ctx) => {
    const t = storyboardTexts(localeOf(ctx));
    const [, action, jobId = '', arg] = ctx.match;
    const message = ctx.callbackQuery.message;
    const kept = await readKeptStoryboard(deps.settings, jobId);
    if (!kept || !message) {
      await ctx.answerCallbackQuery({ text: errorText({ code: 'bad_input', params: { reason: 'storyboard_expired' } }, localeOf(ctx)), show_alert: true });
      await ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: [] } }).catch(() => undefined); // the buttons can do nothing now
      return;
    }
    if (!mayControl(kept.owner, 'telegram', String(ctx.from.id), deps.adminIds)) {
      await ctx.answerCallbackQuery({ text: t.notYours, show_alert: true });
      return;
    }
    const locale = localeOf(ctx);
    const video = { chatId: message.chat.id, messageId: message.message_id, ...(message.is_topic_message ? { threadId: message.message_thread_id } : {}) };
    switch (action) {
      case 'roll':
        await ctx.answerCallbackQuery({ text: t.pickScene });
        await setKeyboard(ctx, scenesKeyboard(jobId, kept.scenes, locale));
        return;
      case 'voice':
        await ctx.answerCallbackQuery({ text: t.pickVoice });
        await setKeyboard(ctx, voicesKeyboard(jobId, service.voices, locale));
        return;
      case 'edit':
        await ctx.answerCallbackQuery({ text: t.editLineHint, show_alert: true });
        return;
      case 'back':
        await ctx.answerCallbackQuery();
        await setKeyboard(ctx, remakeKeyboard(jobId, locale));
        return;
    }
    const change: StoryboardChange | undefined =
      action === 'scene' ? { kind: 'reroll', scene: Number(arg) } : arg && service.voices.includes(arg) ? { kind: 'voice', voice: arg } : undefined;
    if (!change) {
      await ctx.answerCallbackQuery({ text: t.gone });
      return;
    }
    await ctx.answerCallbackQuery({ text: t.remaking });
    await setKeyboard(ctx, remakeKeyboard(jobId, locale));
    try {
      await remake(ctx, video, jobId, kept, change, `telegram-remake:${ctx.callbackQuery.id}`);
    } catch (thrown: unknown) {
      await ctx.reply(errorText(toReelforgeError(thrown), locale), { reply_parameters: { message_id: video.messageId, allow_sending_without_reply: true } });
    }
  });

  // "3: <new line>" / "3 picture: ..." in reply to a delivered video re-makes it with that change.
  composer.on('message:text', async (ctx, next) => {
    const replied = ctx.msg.reply_to_message;
    const jobId = replied && replied.from?.id === ctx.me.id && replied.video ? jobOfVideo(replied) : undefined;
    if (!replied || !jobId || ctx.msg.text.startsWith('/')) return next();
    const locale = localeOf(ctx);
    const t = storyboardTexts(locale);
    const kept = await readKeptStoryboard(deps.settings, jobId);
    if (!kept) {
      await ctx.reply(errorText({ code: 'bad_input', params: { reason: 'storyboard_expired' } }, locale), replyTo(ctx));
      return;
    }
    if (!mayControl(kept.owner, 'telegram', String(ctx.from.id), deps.adminIds)) {
      await ctx.reply(t.notYours, replyTo(ctx));
      return;
    }
    const change = parseEdit(ctx.msg.text);
    if (!change) {
      await ctx.reply(t.editUsage, replyTo(ctx));
      return;
    }
    const video = { chatId: ctx.chat.id, messageId: replied.message_id, ...(replied.is_topic_message ? { threadId: replied.message_thread_id } : {}) };
    try {
      await remake(ctx, video, jobId, kept, change, `telegram:${ctx.chat.id}:${ctx.msg.message_id}`);
    } catch (thrown: unknown) {
      await ctx.reply(errorText(toReelforgeError(thrown), locale), replyTo(ctx));
    }
  });
  return composer;
}
