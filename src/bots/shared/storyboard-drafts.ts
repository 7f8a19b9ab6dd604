/**
 * The chat storyboard, one flow for every platform: a draft (the storyboard waiting for ▶️ Render)
 * kept in the settings store under its message, where any bot process finds it; the edits people
 * type ("3: <new line>", "3 picture: <what it shows>"); the message text; who may press its
 * buttons. Rendering it and re-making a delivered video are ordinary jobs (src/jobs/job-storyboards.ts).
 */
import { ownerKey, type JobOwner, type Platform } from '../../core/chat-target.js';
import type { VideoRequest } from '../../core/request.js';
import type { Storyboard, StoryboardChange } from '../../pipeline/storyboard.js';
import type { SettingsStore } from '../../store/settings.js';
import { storyboardTexts } from './i18n.js';

/** What the bots need to write storyboards; the composition root builds it from the providers. */
export interface StoryboardService {
  /**
   * Writes the storyboard for a request: the script call and nothing else. Checks first whether the
   * owner may spend at all (allow-lists, daily limits, budget), as /video does; throws a ReelforgeError.
   */
  write(request: VideoRequest, owner: JobOwner, options?: { take?: number; signal?: AbortSignal }): Promise<{ storyboard: Storyboard; scriptUsd: number }>;
  /** What rendering it from nothing would cost (dollars) and take (seconds), about. */
  estimate(storyboard: Storyboard): { usd: number; sec: number };
  /** An untouched draft expires after this long. */
  expireMs: number;
  /** The voices 🎙 offers. */
  voices: readonly string[];
}

/** A storyboard waiting for ▶️ Render. */
export interface Draft {
  storyboard: Storyboard;
  owner: JobOwner & { chatId: string };
  scriptUsd: number;
  locale: string;
  expiresAt: number;
  /** Bumped by every edit: a render's idempotency key names the version it renders. */
  revision: number;
}

/** Kept a little past its expiry, so the expiry itself (not the store) ends it, and says so. */
const GRACE_MS = 60_000;

export function draftKey(platform: Platform, messageKey: string): string {
  return `storyboard-draft:${platform}:${messageKey}`;
}

export async function saveDraft(settings: SettingsStore, key: string, draft: Draft): Promise<void> {
  await settings.putExpiring(key, JSON.stringify(draft), Math.max(1, draft.expiresAt - Date.now()) + GRACE_MS);
}

/** The draft, or undefined when there is none (used, cancelled or expired). */
export async function readDraft(settings: SettingsStore, key: string, options: { expired?: boolean } = {}): Promise<Draft | undefined> {
  const text = await settings.getExpiring(key);
  if (text === undefined) return undefined;
  const draft = JSON.parse(text) as Draft;
  return options.expired || draft.expiresAt > Date.now() ? draft : undefined;
}

/**
 * Takes the draft out (to render, cancel or expire it): of two takers, exactly one gets it. Only the
 * expiry itself (`expired: true`) takes one whose time is up.
 */
export async function takeDraft(settings: SettingsStore, key: string, options: { expired?: boolean } = {}): Promise<Draft | undefined> {
  const draft = await readDraft(settings, key, options);
  if (!draft) return undefined;
  return (await settings.deleteExpiring(key)) ? draft : undefined;
}

/** Only the person who asked (or an admin) may press a storyboard's or a video's buttons. */
export function mayControl(owner: JobOwner, platform: Platform, userId: string, adminIds: ReadonlySet<string>): boolean {
  return (owner.platform === platform && owner.userId === userId) || adminIds.has(ownerKey({ platform, userId }));
}

/**
 * Reads an edit: `3: <new line>`, `3 picture: <what it shows>` (also `3 pic:`, `3 image:`, and in
 * Russian `3 картинка:`). Undefined when the text is not an edit.
 */
export function parseEdit(text: string): Exclude<StoryboardChange, { kind: 'voice' } | { kind: 'reroll' }> | undefined {
  const match = /^\s*#?(\d{1,3})\s*(picture|pic|image|картинка|изображение)?\s*[:.)-]\s*([\s\S]+)$/iu.exec(text);
  if (!match) return undefined;
  const scene = Number(match[1]);
  const body = (match[3] ?? '').trim();
  if (!body) return undefined;
  return match[2] ? { kind: 'picture', scene, text: body } : { kind: 'narration', scene, text: body };
}

/** Longest picture description shown in the chat (the full prompt stays in the storyboard). */
const PICTURE_SHOWN = 90;

/**
 * The storyboard message: title, numbered scenes (line and a short picture description), estimated
 * cost and time, how to edit, when it expires. Kept under `maxChars` (the platform's limit) by
 * shortening the pictures, then the lines.
 */
export function draftText(draft: Draft, estimate: { usd: number; sec: number }, maxChars: number, note?: string): string {
  const t = storyboardTexts(draft.locale);
  const sb = draft.storyboard;
  const head = t.header(sb.title, sb.seconds, sb.draft);
  const tail = [t.estimate(estimate.usd, estimate.sec, draft.scriptUsd), t.editHint, t.expiresIn(Math.max(1, Math.round((draft.expiresAt - Date.now()) / 60_000)))];
  const build = (pictureMax: number, lineMax: number): string =>
    [
      ...(note ? [note] : []),
      head,
      '',
      // Past a point only the lines are shown: every scene keeps its number, so each can still be edited.
      ...sb.segments.map((s, i) => (pictureMax > 0 ? t.scene(i + 1, shorten(s.narration, lineMax), shorten(s.picture, pictureMax)) : `${i + 1}. ${shorten(s.narration, lineMax)}`)),
      '',
      ...tail,
    ].join('\n');
  for (const [pictureMax, lineMax] of [
    [PICTURE_SHOWN, 600],
    [50, 600],
    [30, 200],
    [20, 90],
    [0, 60],
    [0, 30],
  ] as const) {
    const text = build(pictureMax, lineMax);
    if (text.length <= maxChars) return text;
  }
  const text = build(0, 20);
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1)}…`;
}

/** The storyboard's final state (cancelled, expired, rendering): the title and scenes stay readable. */
export function closedDraftText(draft: Draft, status: string, maxChars: number): string {
  const t = storyboardTexts(draft.locale);
  const sb = draft.storyboard;
  const lines = [status, t.header(sb.title, sb.seconds, sb.draft), ...sb.segments.map((s, i) => `${i + 1}. ${shorten(s.narration, 200)}`)];
  const text = lines.join('\n');
  return text.length <= maxChars ? text : text.slice(0, maxChars - 1) + '…';
}

function shorten(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}
