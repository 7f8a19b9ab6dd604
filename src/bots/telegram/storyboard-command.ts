/**
 * /storyboard <seconds> <topic>: the script only (the one paid call), shown as one message with the
 * numbered scenes, the estimated cost and time, and ▶️ Render / 🔁 New script / ✖️ Cancel. A reply
 * "3: <new line>" or "3 picture: <what it shows>" edits it in place. Render makes it an ordinary job
 * (the shared submission flow: admission, progress message, queue). An untouched storyboard expires:
 * its message says so and loses its buttons. Only the requester or an admin may press the buttons.
 */
import { Composer, InlineKeyboard, type Context } from 'grammy';
import type { TelegramTarget } from '../../core/chat-target.js';
import { toReelforgeError } from '../../core/errors.js';
import { parseVideoCommandText, validateVideoRequest, type RawVideoRequest, type VideoRequest } from '../../core/request.js';
import { applyChanges, storyboardRequest } from '../../pipeline/storyboard.js';
import { errorText, storyboardTexts } from '../shared/i18n.js';
import {
  closedDraftText,
  draftKey,
  draftText,
  mayControl,
  parseEdit,
  readDraft,
  saveDraft,
  takeDraft,
  type Draft,
  type StoryboardService,
} from '../shared/storyboard-drafts.js';
import { submitVideo, withTierOverride } from '../shared/submit-video.js';
import { isNotModified } from './api.js';
import { localeOf, replyTo, type TelegramBotDeps } from './deps.js';

export const STORYBOARD_PREFIX = 'sb:';
/** Telegram's longest message text. */
const MAX_TEXT = 4096;

function draftKeyboard(locale: string): InlineKeyboard {
  const t = storyboardTexts(locale);
  return new InlineKeyboard()
    .text(t.render, `${STORYBOARD_PREFIX}render`)
    .text(t.newScript, `${STORYBOARD_PREFIX}new`)
    .text(t.cancel, `${STORYBOARD_PREFIX}cancel`);
}

export function storyboardCommand(deps: TelegramBotDeps): Composer<Context> {
  const composer = new Composer();
  const service = deps.storyboards;
  if (!service) return composer;
  const timers = new Map<string, NodeJS.Timeout>();
  deps.stopping?.addEventListener('abort', () => {
    for (const timer of timers.values()) clearTimeout(timer);
    timers.clear();
  });

  const keyOf = (chatId: number, messageId: number): string => draftKey('telegram', `${chatId}:${messageId}`);

  /** The message becomes "expired" without buttons, once the draft's time is up (if nothing took it first). */
  const scheduleExpiry = (chatId: number, messageId: number, draft: Draft): void => {
    const key = keyOf(chatId, messageId);
    clearTimeout(timers.get(key));
    if (deps.stopping?.aborted) return;
    const timer = setTimeout(() => {
      timers.delete(key);
      void (async () => {
        const taken = await takeDraft(deps.settings, key, { expired: true }).catch(() => undefined);
        if (!taken) return;
        const t = storyboardTexts(taken.locale);
        await deps.notifier.api.editMessageText(chatId, messageId, closedDraftText(taken, t.expired, MAX_TEXT), { reply_markup: { inline_keyboard: [] } });
      })().catch((error: unknown) => deps.log.warn('storyboard expiry edit failed', { chatId, error: String(error) })); // logged, never fatal
    }, Math.max(0, draft.expiresAt - Date.now()));
    timer.unref();
    timers.set(key, timer);
  };

  const show = async (ctx: Context, chatId: number, messageId: number, draft: Draft, service: StoryboardService, note?: string): Promise<void> => {
    await ctx.api
      .editMessageText(chatId, messageId, draftText(draft, service.estimate(draft.storyboard), MAX_TEXT, note), { reply_markup: draftKeyboard(draft.locale) })
      .catch((error: unknown) => {
        // The same text again (an offline outline rewritten the same): the message is right as it is.
        if (!isNotModified(error)) throw error;
      });
  };

  composer.command('storyboard', async (ctx) => {
    const from = ctx.from;
    if (!from) return;
    const locale = localeOf(ctx);
    const chatId = ctx.chat.id;
    const owner = { platform: 'telegram' as const, userId: String(from.id), chatId: String(chatId), displayName: from.username ? `@${from.username}` : from.first_name };
    let request: VideoRequest;
    try {
      const parsed = parseVideoCommandText(ctx.match);
      const raw: RawVideoRequest = { topic: parsed.topic, ...(parsed.duration !== undefined ? { duration: parsed.duration } : {}) };
      request = await withTierOverride(deps, validateVideoRequest(raw), owner);
    } catch (thrown: unknown) {
      await ctx.reply(errorText(toReelforgeError(thrown), locale), replyTo(ctx));
      return;
    }
    const message = await ctx.reply(storyboardTexts(locale).writing, replyTo(ctx));
    try {
      const written = await service.write(request, owner);
      const draft: Draft = { storyboard: written.storyboard, owner, scriptUsd: written.scriptUsd, locale, expiresAt: Date.now() + service.expireMs, revision: 0 };
      await saveDraft(deps.settings, keyOf(chatId, message.message_id), draft);
      await show(ctx, chatId, message.message_id, draft, service);
      scheduleExpiry(chatId, message.message_id, draft);
    } catch (thrown: unknown) {
      await ctx.api.editMessageText(chatId, message.message_id, errorText(toReelforgeError(thrown), locale));
    }
  });

  composer.callbackQuery(new RegExp(`^${STORYBOARD_PREFIX}(render|new|cancel)$`), async (ctx) => {
    const t = storyboardTexts(localeOf(ctx));
    const message = ctx.callbackQuery.message;
    if (!message) {
      await ctx.answerCallbackQuery({ text: t.gone });
      return;
    }
    const chatId = message.chat.id;
    const messageId = message.message_id;
    const key = keyOf(chatId, messageId);
    const draft = await readDraft(deps.settings, key);
    if (!draft) {
      await ctx.answerCallbackQuery({ text: t.gone, show_alert: true });
      // Expired while no process watched it (a restart): say so now and take the buttons away.
      const old = 'text' in message && typeof message.text === 'string' ? message.text : '';
      await ctx.api
        .editMessageText(chatId, messageId, `${t.expired}\n\n${old}`.slice(0, MAX_TEXT), { reply_markup: { inline_keyboard: [] } })
        .catch(() => undefined); // already closed by whoever took it
      return;
    }
    if (!mayControl(draft.owner, 'telegram', String(ctx.from.id), deps.adminIds)) {
      await ctx.answerCallbackQuery({ text: t.notYours, show_alert: true });
      return;
    }
    const action = ctx.match[1];
    if (action === 'cancel') {
      const taken = await takeDraft(deps.settings, key);
      clearTimeout(timers.get(key));
      await ctx.answerCallbackQuery(taken ? { text: t.cancelled } : { text: t.gone });
      if (taken) await ctx.api.editMessageText(chatId, messageId, closedDraftText(taken, t.cancelled, MAX_TEXT), { reply_markup: { inline_keyboard: [] } });
      return;
    }
    if (action === 'new') {
      await ctx.answerCallbackQuery({ text: t.writing });
      try {
        const written = await service.write(storyboardRequest(draft.storyboard), draft.owner, { take: draft.revision + 1 });
        const next: Draft = { ...draft, storyboard: written.storyboard, scriptUsd: draft.scriptUsd + written.scriptUsd, revision: draft.revision + 1, expiresAt: Date.now() + service.expireMs };
        await saveDraft(deps.settings, key, next);
        await show(ctx, chatId, messageId, next, service);
        scheduleExpiry(chatId, messageId, next);
      } catch (thrown: unknown) {
        await ctx.reply(errorText(toReelforgeError(thrown), draft.locale), { reply_parameters: { message_id: messageId, allow_sending_without_reply: true } });
      }
      return;
    }
    // Render: the draft is taken so a second press (or a second admin) cannot make a second video.
    const taken = await takeDraft(deps.settings, key);
    if (!taken) {
      await ctx.answerCallbackQuery({ text: t.gone });
      return;
    }
    clearTimeout(timers.get(key));
    await ctx.answerCallbackQuery({ text: t.rendering });
    const threadId = message.is_topic_message ? message.message_thread_id : undefined;
    const outcome = await submitVideo<TelegramTarget>(deps, {
      raw: {},
      prepared: { request: storyboardRequest(taken.storyboard), storyboard: taken.storyboard },
      owner: taken.owner,
      idempotencyKey: `telegram-storyboard:${chatId}:${messageId}:${taken.revision}`,
      notifier: deps.notifier,
      refuse: async (error) => {
        // Not admitted (a daily limit, say): the storyboard stays open to render later.
        await saveDraft(deps.settings, key, taken);
        scheduleExpiry(chatId, messageId, taken);
        await ctx.reply(errorText(error, taken.locale), { reply_parameters: { message_id: messageId, allow_sending_without_reply: true } });
      },
      acknowledge: async () => {
        const progress = await ctx.reply(storyboardTexts(taken.locale).rendering, {
          reply_parameters: { message_id: messageId, allow_sending_without_reply: true },
          ...(threadId !== undefined ? { message_thread_id: threadId } : {}),
        });
        return {
          platform: 'telegram',
          chatId,
          ...(threadId !== undefined ? { threadId } : {}),
          replyToMessageId: messageId,
          progressMessageId: progress.message_id,
          locale: taken.locale,
        };
      },
    });
    if (outcome.kind === 'not_queued') {
      // The queue said no (full, a limit): the progress message says why; the storyboard stays open.
      await saveDraft(deps.settings, key, taken);
      scheduleExpiry(chatId, messageId, taken);
    } else if (outcome.kind !== 'refused') {
      await ctx.api
        .editMessageText(chatId, messageId, closedDraftText(taken, t.rendering, MAX_TEXT), { reply_markup: { inline_keyboard: [] } })
        .catch((error: unknown) => deps.log.warn('storyboard message edit failed', { chatId, error: String(error) }));
    }
  });

  // "3: <new line>" / "3 picture: <what it shows>" in reply to an open storyboard edits it in place.
  composer.on('message:text', async (ctx, next) => {
    const replied = ctx.msg.reply_to_message;
    if (!replied || replied.from?.id !== ctx.me.id || ctx.msg.text.startsWith('/')) return next();
    const key = keyOf(ctx.chat.id, replied.message_id);
    const draft = await readDraft(deps.settings, key);
    if (!draft) return next();
    const t = storyboardTexts(draft.locale);
    if (!mayControl(draft.owner, 'telegram', String(ctx.from.id), deps.adminIds)) {
      await ctx.reply(t.notYours, replyTo(ctx));
      return;
    }
    const change = parseEdit(ctx.msg.text);
    if (!change) {
      await ctx.reply(t.editUsage, replyTo(ctx));
      return;
    }
    try {
      const edited: Draft = { ...draft, storyboard: applyChanges(draft.storyboard, [change]), revision: draft.revision + 1 };
      await saveDraft(deps.settings, key, edited);
      await show(ctx, ctx.chat.id, replied.message_id, edited, service, t.edited(change.scene));
    } catch (thrown: unknown) {
      await ctx.reply(errorText(toReelforgeError(thrown), draft.locale), replyTo(ctx));
    }
  });
  return composer;
}
