/**
 * The Discord message bodies reelforge writes, as plain API JSON so that both the gateway bot and
 * the REST-only notifier (in a worker process) build exactly the same messages.
 */
import type { ProgressSnapshot } from '../../core/progress.js';
import { botTexts, storyboardTexts } from '../shared/i18n.js';
import { progressText } from '../shared/progress-view.js';

/** Discord refuses message content over 2,000 characters. */
export const MAX_CONTENT_CHARS = 2000;

const COMPONENT_ACTION_ROW = 1;
const COMPONENT_BUTTON = 2;
const BUTTON_STYLE_DANGER = 4;
const BUTTON_STYLE_SECONDARY = 2;

const CANCEL_PREFIX = 'reelforge:cancel:';

export interface ButtonComponent {
  type: typeof COMPONENT_BUTTON;
  style: typeof BUTTON_STYLE_DANGER | typeof BUTTON_STYLE_SECONDARY;
  label: string;
  custom_id: string;
}

export interface ActionRow {
  type: typeof COMPONENT_ACTION_ROW;
  components: ButtonComponent[];
}

export interface MessageBody {
  content: string;
  components: ActionRow[];
  /** Topics are user text: never let one ping @everyone or a role. */
  allowed_mentions: { parse: [] };
  attachments?: Array<{ id: number; filename: string }>;
}

export function cancelCustomId(jobId: string): string {
  return `${CANCEL_PREFIX}${jobId}`;
}

/** The job id in a Cancel button's custom_id, or undefined for any other component. */
export function jobIdFromCustomId(customId: string): string | undefined {
  return customId.startsWith(CANCEL_PREFIX) ? customId.slice(CANCEL_PREFIX.length) || undefined : undefined;
}

export function clampContent(text: string): string {
  return text.length <= MAX_CONTENT_CHARS ? text : `${text.slice(0, MAX_CONTENT_CHARS - 1)}…`;
}

export function cancelRow(jobId: string, locale: string): ActionRow {
  return {
    type: COMPONENT_ACTION_ROW,
    components: [{ type: COMPONENT_BUTTON, style: BUTTON_STYLE_DANGER, label: botTexts(locale).cancelButton, custom_id: cancelCustomId(jobId) }],
  };
}

/** The progress message: the snapshot drawn as lines, with a Cancel button. */
export function progressMessage(snapshot: ProgressSnapshot, jobId: string, locale: string): MessageBody {
  return { content: clampContent(progressText(snapshot, locale)), components: [cancelRow(jobId, locale)], allowed_mentions: { parse: [] } };
}

/** A final message (done, failed, cancelled): text only, the Cancel button removed. */
export function finalMessage(text: string): MessageBody {
  return { content: clampContent(text), components: [], allowed_mentions: { parse: [] } };
}

export const REMAKE_PREFIX = 'reelforge:rm:';

/** 🔁 Re-roll a scene, ✏️ Edit a line, 🎙 Voice under a delivered video whose storyboard is kept. */
export function remakeRow(jobId: string, locale: string): ActionRow {
  const t = storyboardTexts(locale);
  const button = (label: string, action: string): ButtonComponent => ({ type: COMPONENT_BUTTON, style: BUTTON_STYLE_SECONDARY, label, custom_id: `${REMAKE_PREFIX}${action}:${jobId}` });
  return { type: COMPONENT_ACTION_ROW, components: [button(t.reroll, 'roll'), button(t.editLine, 'edit'), button(t.voice, 'voice')] };
}
