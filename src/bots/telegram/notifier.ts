/**
 * Shows a job in its Telegram chat through the Bot API alone (grammY's `Api`, no update loop), so
 * a worker process can do it without the bot process.
 *
 * Every call to one chat goes through that chat's lane: one at a time, at least 1 s apart in a
 * private chat and 3 s in a group (Telegram's flood limits). Progress is coalesced: while a chat
 * waits for its slot, a newer snapshot replaces the one waiting, so the message always shows the
 * latest state and intermediate ones are dropped.
 */
import { silentLogger, type Logger } from '../../log.js';
import { basename, extname } from 'node:path';
import { InputFile, type Api } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { TelegramTarget } from '../../core/chat-target.js';
import { abortError, chatGone, ReelforgeError } from '../../core/errors.js';
import type { ProgressSnapshot } from '../../core/progress.js';
import { formatReceiptLine } from '../../core/receipt.js';
import type { DeliverInput, Notifier } from '../../jobs/notifier.js';
import { botTexts, storyboardTexts } from '../shared/i18n.js';
import { progressText } from '../shared/progress-view.js';
import { createTelegramApi, isChatGoneError, isMessageGone, isNotModified, toTelegramError } from './api.js';

export const DEFAULT_UPLOAD_LIMIT_BYTES = 50 * 1024 * 1024;
export const CANCEL_PREFIX = 'cancel:';
/** How long a chat the bot was removed from counts as gone. */
const GONE_MEMORY_MS = 10 * 60_000;
/** When a failed final edit ("done", the error) is tried again. */
const FINAL_EDIT_RETRY_MS = [5_000, 20_000, 60_000];

export interface TelegramNotifierOptions {
  /** A ready client (the bot's own `bot.api`), or a token (and apiRoot) to make one. */
  api?: Api;
  token?: string;
  apiRoot?: string;
  /** config.telegram.uploadLimitBytes: 50 MB on the public Bot API, up to 2000 MB on a local server. */
  uploadLimitBytes?: number;
  /** Least time between two calls to one chat. */
  minIntervalMs?: { private: number; group: number };
  log?: Logger;
}

/** The Cancel button under a progress message; the job id fits Telegram's 64-byte callback data. */
export function cancelKeyboard(jobId: string, locale: string): InlineKeyboardMarkup {
  return { inline_keyboard: [[{ text: botTexts(locale).cancelButton, callback_data: `${CANCEL_PREFIX}${jobId}` }]] };
}

export const REMAKE_PREFIX = 'rm:';

/** 🔁 Re-roll a scene, ✏️ Edit a line, 🎙 Voice under a delivered video (callback data within 64 bytes). */
export function remakeKeyboard(jobId: string, locale: string): InlineKeyboardMarkup {
  const t = storyboardTexts(locale);
  return {
    inline_keyboard: [
      [
        { text: t.reroll, callback_data: `${REMAKE_PREFIX}roll:${jobId}` },
        { text: t.editLine, callback_data: `${REMAKE_PREFIX}edit:${jobId}` },
        { text: t.voice, callback_data: `${REMAKE_PREFIX}voice:${jobId}` },
      ],
    ],
  };
}

/** Where a message goes: the forum topic, as a reply to the user's message when it still exists. */
export function placement(target: TelegramTarget, replyTo = target.replyToMessageId): {
  message_thread_id?: number;
  reply_parameters?: { message_id: number; allow_sending_without_reply: boolean };
} {
  return {
    ...(target.threadId !== undefined ? { message_thread_id: target.threadId } : {}),
    ...(replyTo !== undefined ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } } : {}),
  };
}

interface MessageState {
  /** The progress message now in use (a replacement once the first was deleted). */
  messageId: number | undefined;
  replaced: boolean;
  /** Deleted twice, or never there: stop editing. */
  lost: boolean;
  /** Delivered or failed: later progress is stale. */
  finished: boolean;
  shownRunning: boolean;
  lastText: string | undefined;
  waiting: { target: TelegramTarget; snapshot: ProgressSnapshot; jobId: string } | undefined;
  scheduled: boolean;
}

/** What to do when the progress message is gone: send a new one never, once per job, or always. */
type IfGone = 'never' | 'once' | 'always';

interface Lane {
  tail: Promise<void>;
  nextAt: number;
  busy: number;
}

export class TelegramNotifier implements Notifier<TelegramTarget> {
  readonly platform = 'telegram' as const;
  readonly api: Api;
  private readonly limitBytes: number;
  private readonly interval: { private: number; group: number };
  private readonly log: Logger;
  private readonly lanes = new Map<number, Lane>();
  private readonly messages = new Map<string, MessageState>();
  /**
   * Chats the bot can no longer post in (removed, blocked) -> when that was learnt: nothing more is
   * sent there for a while (the jobs there stop); a bot added back is heard again after that.
   */
  private readonly gone = new Map<number, number>();

  constructor(options: TelegramNotifierOptions) {
    if (options.api) this.api = options.api;
    else if (options.token) this.api = createTelegramApi({ token: options.token, ...(options.apiRoot ? { apiRoot: options.apiRoot } : {}) });
    else throw new ReelforgeError('config', 'The Telegram notifier needs a bot token.');
    this.limitBytes = options.uploadLimitBytes ?? DEFAULT_UPLOAD_LIMIT_BYTES;
    this.interval = options.minIntervalMs ?? { private: 1000, group: 3000 };
    this.log = options.log ?? silentLogger();
  }

  uploadLimitBytes(_target: TelegramTarget): number {
    return this.limitBytes;
  }

  /** Schedules the snapshot for the progress message and returns at once; a failed edit is logged, never thrown. */
  progress(target: TelegramTarget, snapshot: ProgressSnapshot, jobId: string): Promise<void> {
    const state = this.stateOf(target);
    if (state.finished || state.lost || this.isGone(target.chatId)) return Promise.resolve();
    // Never step back from a running view to "queued" (a late queue announcement).
    if (!snapshot.running && state.shownRunning) return Promise.resolve();
    if (snapshot.running) state.shownRunning = true;
    state.waiting = { target, snapshot, jobId };
    if (!state.scheduled) {
      state.scheduled = true;
      void this.inLane(target.chatId, async () => {
        state.scheduled = false;
        const item = state.waiting;
        state.waiting = undefined;
        if (!item || state.finished || state.lost || this.isGone(target.chatId)) return;
        const text = progressText(item.snapshot, item.target.locale);
        await this.show(item.target, state, text, cancelKeyboard(item.jobId, item.target.locale), 'once');
      }).catch((error: unknown) => this.log.warn('telegram progress edit failed', { chatId: target.chatId, error: describe(error) }));
    }
    return Promise.resolve();
  }

  /** Uploads the video as a video (inline playable), replying in the same thread, then marks the progress message done. */
  async deliver(target: TelegramTarget, video: DeliverInput, signal?: AbortSignal): Promise<void> {
    const state = this.stateOf(target);
    if (this.isGone(target.chatId)) throw chatGone();
    const t = botTexts(target.locale);
    const r = video.receipt;
    const caption = t.caption(r.title, r.durationSec, formatReceiptLine(r)).slice(0, 1024);
    void this.api.sendChatAction(target.chatId, 'upload_video', target.threadId !== undefined ? { message_thread_id: target.threadId } : {}).catch(
      () => undefined, // only a hint to the user; the upload matters
    );
    await this.inLane(target.chatId, async () => {
      try {
        await this.api.sendVideo(
          target.chatId,
          new InputFile(video.path, uploadName(video.path)),
          {
            width: r.width,
            height: r.height,
            duration: Math.round(r.durationSec),
            supports_streaming: true,
            caption,
            ...(video.remake ? { reply_markup: remakeKeyboard(video.remake.jobId, target.locale) } : {}),
            ...(video.thumbnailPath ? { thumbnail: new InputFile(video.thumbnailPath, uploadName(video.thumbnailPath)) } : {}),
            ...placement(target),
          },
          // grammY types its signal with the abort-controller shim; a native AbortSignal is what it uses at run time.
          signal as Parameters<Api['sendVideo']>[3],
        );
      } catch (error) {
        // A stopped upload is the job's cancel (or time limit), not Telegram being unreachable.
        if (signal?.aborted) throw abortError(signal);
        if (isChatGoneError(error)) this.markGone(target.chatId, error);
        throw toTelegramError(error, 'upload the video', this.limitBytes);
      }
    });
    state.finished = true;
    state.waiting = undefined;
    // The video itself is the news: if the progress message is gone, no new "done" message. The
    // edit goes on in the background (finalEdit never throws): delivery ends once the video is in
    // the chat, so the job records it at once and nothing that follows can make it send again.
    void this.finalEdit(target, state, t.done(r.title, r.durationSec), 'never');
  }

  /** Turns the progress message into the error, in the user's language (sent anew if the message is gone). */
  async fail(target: TelegramTarget, error: ReelforgeError): Promise<void> {
    const state = this.stateOf(target);
    state.finished = true;
    state.waiting = undefined;
    if (this.isGone(target.chatId)) return; // no one there to tell
    // The user must hear why: a deleted progress message gets a new one.
    await this.finalEdit(target, state, botTexts(target.locale).error(error), 'always');
  }

  chatGone(target: TelegramTarget): boolean {
    return this.isGone(target.chatId);
  }

  private isGone(chatId: number): boolean {
    const at = this.gone.get(chatId);
    if (at === undefined) return false;
    if (Date.now() - at < GONE_MEMORY_MS) return true;
    this.gone.delete(chatId);
    return false;
  }

  private markGone(chatId: number, error: unknown): void {
    if (this.isGone(chatId)) return;
    this.gone.set(chatId, Date.now());
    this.log.warn('telegram chat gone: the bot can no longer post there (removed or blocked); its jobs stop', { chatId, error: describe(error) });
  }

  /** Resolves when every call scheduled so far has been made (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.lanes.values()].map((lane) => lane.tail));
  }

  /**
   * The last word in the progress message ("done", or the error). Best effort: it never fails the
   * job (the video is out, or the job has already ended); a 5xx, a 429 past the retry policy or a
   * network error is tried again later in the background, anything else is logged.
   */
  private async finalEdit(target: TelegramTarget, state: MessageState, text: string, ifGone: IfGone, attempt = 1): Promise<void> {
    try {
      await this.inLane(target.chatId, async () => {
        await this.show(target, state, text, undefined, ifGone);
      });
    } catch (error) {
      const transient = toTelegramError(error, 'edit the progress message').retryable;
      const delayMs = FINAL_EDIT_RETRY_MS[attempt - 1];
      if (!transient || delayMs === undefined) {
        this.log.warn('telegram final progress edit failed', { chatId: target.chatId, attempt, error: describe(error) });
        return;
      }
      this.log.info('telegram final progress edit failed; trying again later', { chatId: target.chatId, attempt, retryInMs: delayMs, error: describe(error) });
      setTimeout(() => void this.finalEdit(target, state, text, ifGone, attempt + 1), delayMs).unref();
      return;
    } finally {
      this.forgetFinished();
    }
  }

  /** Edits the progress message; if it was deleted, sends a new one once and carries on with that. */
  private async show(
    target: TelegramTarget,
    state: MessageState,
    text: string,
    keyboard: InlineKeyboardMarkup | undefined,
    ifGone: IfGone,
  ): Promise<void> {
    const markupKey = `${text}\u0000${JSON.stringify(keyboard ?? null)}`;
    if (state.lastText === markupKey || this.isGone(target.chatId)) return;
    try {
      await this.showOrSend(target, state, text, keyboard, ifGone, markupKey);
    } catch (error) {
      if (!isChatGoneError(error)) throw error;
      this.markGone(target.chatId, error);
      state.lost = true;
    }
  }

  private async showOrSend(
    target: TelegramTarget,
    state: MessageState,
    text: string,
    keyboard: InlineKeyboardMarkup | undefined,
    ifGone: IfGone,
    markupKey: string,
  ): Promise<void> {
    if (state.messageId !== undefined && !state.lost) {
      try {
        await this.api.editMessageText(target.chatId, state.messageId, text, keyboard ? { reply_markup: keyboard } : {});
        state.lastText = markupKey;
        return;
      } catch (error) {
        if (isNotModified(error)) {
          state.lastText = markupKey;
          return;
        }
        if (!isMessageGone(error)) throw error;
        this.log.info('telegram progress message gone', { chatId: target.chatId, messageId: state.messageId });
      }
    }
    if (ifGone === 'never' || (ifGone === 'once' && state.replaced)) {
      state.lost = true;
      return;
    }
    state.replaced = true;
    const sent = await this.api.sendMessage(target.chatId, text, {
      ...(keyboard ? { reply_markup: keyboard } : {}),
      ...placement(target),
    });
    state.messageId = sent.message_id;
    state.lost = false;
    state.lastText = markupKey;
  }

  /** Runs calls to one chat one after another, spaced by the chat's interval. */
  private inLane<T>(chatId: number, call: () => Promise<T>): Promise<T> {
    let lane = this.lanes.get(chatId);
    if (!lane) {
      lane = { tail: Promise.resolve(), nextAt: 0, busy: 0 };
      this.lanes.set(chatId, lane);
    }
    const current = lane;
    const gap = chatId > 0 ? this.interval.private : this.interval.group;
    current.busy++;
    const run = current.tail.then(async () => {
      const wait = current.nextAt - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      try {
        return await call();
      } finally {
        current.nextAt = Date.now() + gap;
      }
    });
    current.tail = run.then(
      () => undefined,
      () => undefined,
    );
    void current.tail.then(() => {
      current.busy--;
      // An idle lane whose slot has passed holds nothing worth keeping.
      if (current.busy === 0) setTimeout(() => {
        if (current.busy === 0 && this.lanes.get(chatId) === current && Date.now() >= current.nextAt) this.lanes.delete(chatId);
      }, gap + 10).unref();
    });
    return run;
  }

  private stateOf(target: TelegramTarget): MessageState {
    const key = `${target.chatId}:${target.progressMessageId ?? `r${target.replyToMessageId ?? 0}`}`;
    let state = this.messages.get(key);
    if (!state) {
      state = {
        messageId: target.progressMessageId,
        replaced: false,
        lost: false,
        finished: false,
        shownRunning: false,
        lastText: undefined,
        waiting: undefined,
        scheduled: false,
      };
      this.messages.set(key, state);
    }
    return state;
  }

  /** Keeps the memory of finished messages bounded; they only guard against late progress. */
  private forgetFinished(): void {
    if (this.messages.size <= 1000) return;
    for (const [key, state] of this.messages) {
      if (state.finished && !state.scheduled) this.messages.delete(key);
      if (this.messages.size <= 500) break;
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * The file name sent with an upload, in plain ASCII: grammY writes it unquoted into the multipart
 * header, where a Cyrillic title breaks the part (the upload then reads as a missing file).
 */
export function uploadName(path: string): string {
  const base = basename(path);
  const ext = extname(base);
  const stem = base
    .slice(0, base.length - ext.length)
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  return `${stem || 'video'}${ext.replace(/[^A-Za-z0-9.]/g, '')}`;
}
