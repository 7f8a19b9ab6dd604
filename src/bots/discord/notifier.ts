/**
 * Shows a job's progress and delivers its video in Discord, over REST alone (no gateway), so a
 * worker process can do it without the bot.
 *
 * The progress message is the interaction's @original response, edited through the interaction
 * webhook while its token is valid (15 minutes). After that, or when Discord says the token or
 * interaction is gone, the same message is edited as an ordinary channel message with the bot
 * token; if that message cannot be edited a new one is posted and used from then on. The user
 * sees one message either way.
 */
import { silentLogger } from '../../log.js';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RawFile, REST } from '@discordjs/rest';
import type { DiscordTarget } from '../../core/chat-target.js';
import { chatGone, isChatGone, tooLarge, type ReelforgeError } from '../../core/errors.js';
import type { ProgressSnapshot } from '../../core/progress.js';
import { formatReceiptLine } from '../../core/receipt.js';
import type { DeliverInput, Notifier } from '../../jobs/notifier.js';
import { botTexts } from '../shared/i18n.js';
import { finalMessage, progressMessage, remakeRow, type MessageBody } from './messages.js';
import {
  DiscordErrorCode,
  createRestClient,
  describeDiscordError,
  isDiscordError,
  isInteractionGone,
  toDiscordFailure,
  type DiscordLog,
} from './rest.js';

export const DEFAULT_UPLOAD_LIMIT_BYTES = 10 * 1024 * 1024;
export const INTERACTION_TOKEN_LIFETIME_MS = 15 * 60_000;

export interface DiscordNotifierOptions {
  token: string;
  apiBase: string;
  /** Share a REST client (tests, or a process that already has one); otherwise one is made. */
  rest?: REST;
  log?: DiscordLog;
  /** How long an interaction token lives (Discord: 15 min); shortened in tests. */
  tokenLifetimeMs?: number;
  /** Stop using the token this long before it expires, so an edit in flight does not straddle the end. */
  tokenMarginMs?: number;
  /** At most one progress edit per message in this interval; newer snapshots replace waiting ones. */
  editIntervalMs?: number;
  defaultUploadLimitBytes?: number;
}

interface MessageState {
  /** The progress message's id, once known (the @original, or the channel message that replaced it). */
  messageId?: string;
  /** True once the interaction webhook is no longer used for this message. */
  channelMode: boolean;
  lastEditAt: number;
  /** When Discord answered the last progress edit (an edit can wait behind an earlier write). */
  lastSentAt: number;
  latest?: { snapshot: ProgressSnapshot; jobId: string };
  timer?: NodeJS.Timeout;
  /** Writes to one message happen one after another, in call order. */
  chain: Promise<void>;
  sawRunning: boolean;
  /** The last progress body written, to skip edits that would change nothing. */
  lastBody?: string;
  outcome?: 'delivered' | 'failed';
  touchedAt: number;
}

const STATE_IDLE_MS = 2 * 60 * 60_000;
/** How long a channel the bot lost access to counts as gone. */
const GONE_MEMORY_MS = 10 * 60_000;

export class DiscordNotifier implements Notifier<DiscordTarget> {
  readonly platform = 'discord' as const;
  private readonly rest: REST;
  private readonly log: DiscordLog;
  private readonly tokenUsableMs: number;
  private readonly editIntervalMs: number;
  private readonly defaultUploadLimitBytes: number;
  private readonly states = new Map<string, MessageState>();
  /** Channels the bot can no longer post in -> when that was learnt: nothing more goes there for a while. */
  private readonly gone = new Map<string, number>();

  constructor(options: DiscordNotifierOptions) {
    this.log = options.log ?? silentLogger();
    this.rest =
      options.rest ??
      createRestClient({ token: options.token, apiBase: options.apiBase, timeoutMs: 120_000, log: this.log });
    this.tokenUsableMs = (options.tokenLifetimeMs ?? INTERACTION_TOKEN_LIFETIME_MS) - (options.tokenMarginMs ?? 60_000);
    this.editIntervalMs = options.editIntervalMs ?? 1000;
    this.defaultUploadLimitBytes = options.defaultUploadLimitBytes ?? DEFAULT_UPLOAD_LIMIT_BYTES;
  }

  uploadLimitBytes(target: DiscordTarget): number {
    return target.attachmentSizeLimit ?? this.defaultUploadLimitBytes;
  }

  /** Coalesces snapshots: the first is written at once, later ones at most once per interval. */
  async progress(target: DiscordTarget, snapshot: ProgressSnapshot, jobId: string): Promise<void> {
    const state = this.stateFor(target);
    if (state.outcome || this.chatGone(target)) return;
    // A "queued" view arriving after the job started (the bot and the worker race) never replaces live progress.
    if (!snapshot.running && state.sawRunning) return;
    if (snapshot.running) state.sawRunning = true;
    state.latest = { snapshot, jobId };
    if (state.timer) return;
    const wait = state.lastEditAt + this.editIntervalMs - Date.now();
    if (wait <= 0) {
      await this.flush(target, state);
      return;
    }
    state.timer = setTimeout(() => {
      state.timer = undefined;
      // Fire-and-forget by design: the caller has moved on; a failed edit is only logged.
      void this.flush(target, state).catch((error: unknown) =>
        this.log.warn('discord progress edit failed', { channelId: target.channelId, error: describeDiscordError(error) }),
      );
    }, wait);
  }

  async deliver(target: DiscordTarget, video: DeliverInput, signal?: AbortSignal): Promise<void> {
    const state = this.stateFor(target);
    if (this.chatGone(target)) throw chatGone();
    if (state.timer) {
      // Show the waiting snapshot ("Upload…") before the upload, which can take a while; still one edit per interval.
      clearTimeout(state.timer);
      state.timer = undefined;
      await sleep(Math.max(0, state.lastEditAt + this.editIntervalMs - Date.now()));
      await this.flush(target, state).catch((error: unknown) =>
        this.log.warn('discord progress edit failed', { channelId: target.channelId, error: describeDiscordError(error) }),
      );
    }
    this.stopProgress(state);
    const limit = this.uploadLimitBytes(target);
    // Size first: a file over the limit is never read into memory.
    const { size } = await stat(video.path);
    if (size > limit) throw tooLarge(size, limit, 'The video is larger than this Discord channel accepts.');
    const data = await readFile(video.path);
    const { receipt } = video;
    const filename = videoFileName(receipt.title, video.path);
    const body: MessageBody = {
      ...finalMessage(botTexts(target.locale).caption(receipt.title, receipt.durationSec, formatReceiptLine(receipt))),
      ...(video.remake ? { components: [remakeRow(video.remake.jobId, target.locale)] } : {}),
      attachments: [{ id: 0, filename }],
    };
    const files: RawFile[] = [{ name: filename, data, contentType: 'video/mp4' }];
    await this.serialize(state, () => this.write(target, state, body, files, limit, signal));
    state.outcome = 'delivered';
  }

  async fail(target: DiscordTarget, error: ReelforgeError): Promise<void> {
    const state = this.stateFor(target);
    this.stopProgress(state);
    // The Cancel button and the job both report a cancellation; say it once.
    if (state.outcome) return;
    state.outcome = 'failed';
    if (this.chatGone(target)) return; // no one there to tell
    await this.serialize(state, () => this.write(target, state, finalMessage(botTexts(target.locale).error(error))));
  }

  chatGone(target: DiscordTarget): boolean {
    const at = this.gone.get(target.channelId);
    if (at === undefined) return false;
    if (Date.now() - at < GONE_MEMORY_MS) return true;
    this.gone.delete(target.channelId);
    return false;
  }

  private markGone(target: DiscordTarget, error: unknown): void {
    if (this.chatGone(target)) return;
    this.gone.set(target.channelId, Date.now());
    this.log.warn('discord channel gone: the bot can no longer post there (removed, or no access or permission); its jobs stop', {
      channelId: target.channelId,
      error: describeDiscordError(error),
    });
  }

  /** Stops pending progress timers (shutdown). */
  close(): void {
    for (const state of this.states.values()) if (state.timer) clearTimeout(state.timer);
    this.states.clear();
  }

  private stopProgress(state: MessageState): void {
    if (state.timer) clearTimeout(state.timer);
    state.timer = undefined;
    delete state.latest;
  }

  private async flush(target: DiscordTarget, state: MessageState): Promise<void> {
    const latest = state.latest;
    delete state.latest;
    if (!latest || state.outcome) return;
    const body = progressMessage(latest.snapshot, latest.jobId, target.locale);
    const text = JSON.stringify(body);
    if (text === state.lastBody) return;
    state.lastEditAt = Date.now();
    await this.serialize(state, async () => {
      // Discord counts edits as they reach it: the interval runs from when the previous edit was
      // answered, so an edit that waited behind a slow write still arrives an interval after it.
      await sleep(Math.max(0, state.lastSentAt + this.editIntervalMs - Date.now()));
      if (state.outcome) return;
      try {
        await this.write(target, state, body);
        state.lastBody = text;
      } finally {
        state.lastSentAt = Date.now();
      }
    });
  }

  private serialize(state: MessageState, write: () => Promise<void>): Promise<void> {
    const run = state.chain.then(write);
    state.chain = run.catch(() => undefined);
    return run;
  }

  private tokenUsable(target: DiscordTarget): boolean {
    return Date.now() - target.interactionCreatedAt < this.tokenUsableMs;
  }

  private async write(
    target: DiscordTarget,
    state: MessageState,
    body: MessageBody,
    files?: RawFile[],
    limit?: number,
    signal?: AbortSignal,
  ): Promise<void> {
    const abortable = signal ? { signal } : {};
    try {
      if (!state.channelMode && this.tokenUsable(target)) {
        try {
          const message = (await this.rest.patch(
            `/webhooks/${target.applicationId}/${target.interactionToken}/messages/@original`,
            { body, ...(files ? { files } : {}), ...abortable, auth: false },
          )) as { id: string };
          state.messageId = message.id;
          return;
        } catch (error: unknown) {
          if (!isInteractionGone(error)) throw error;
          this.log.info('discord interaction token no longer usable; continuing with channel messages', {
            channelId: target.channelId,
            reason: describeDiscordError(error),
          });
        }
      }
      state.channelMode = true;
      const messageId = state.messageId ?? target.progressMessageId;
      if (messageId) {
        try {
          await this.rest.patch(`/channels/${target.channelId}/messages/${messageId}`, { body, ...(files ? { files } : {}), ...abortable });
          state.messageId = messageId;
          return;
        } catch (error: unknown) {
          const gone =
            isDiscordError(error, 404, DiscordErrorCode.unknownMessage) ||
            isDiscordError(error, 403, DiscordErrorCode.cannotEditOthersMessage);
          if (!gone) throw error;
          this.log.info('discord progress message cannot be edited; posting a new one', { channelId: target.channelId });
        }
      }
      const posted = (await this.rest.post(`/channels/${target.channelId}/messages`, {
        body,
        ...(files ? { files } : {}),
        ...abortable,
      })) as { id: string };
      state.messageId = posted.id;
    } catch (error: unknown) {
      const failure = toDiscordFailure(error, limit);
      if (isChatGone(failure)) this.markGone(target, error);
      throw failure;
    }
  }

  private stateFor(target: DiscordTarget): MessageState {
    const key = `${target.applicationId}:${target.interactionToken}`;
    const now = Date.now();
    let state = this.states.get(key);
    if (!state) {
      this.prune(now);
      state = { channelMode: false, lastEditAt: 0, lastSentAt: 0, chain: Promise.resolve(), sawRunning: false, touchedAt: now };
      this.states.set(key, state);
    }
    state.touchedAt = now;
    return state;
  }

  private prune(now: number): void {
    for (const [key, state] of this.states) {
      if (now - state.touchedAt > STATE_IDLE_MS && !state.timer) this.states.delete(key);
    }
  }
}

/**
 * "The Fall of Constantinople" → "the-fall-of-constantinople.mp4". ASCII only: Discord mangles other
 * characters in attachment names, and the title is in the message anyway; else the file's own name.
 */
export function videoFileName(title: string, path: string): string {
  const slug = title
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return `${slug || basename(path, '.mp4') || 'video'}.mp4`;
}
