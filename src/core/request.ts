import { badInput } from './errors.js';
import { CAPTION_STYLES, isCaptionStyle, type CaptionStyle } from './caption-style.js';
import { isTier, type Tier } from './tiers.js';
import { detectLanguage } from './language.js';

export const MIN_DURATION_SEC = 10;
export const MAX_DURATION_SEC = 180;
export const DEFAULT_DURATION_SEC = 30;
export const MAX_TOPIC_CHARS = 300;

export const ASPECTS = ['9:16', '16:9', '1:1'] as const;
export type Aspect = (typeof ASPECTS)[number];

/** What someone asked for, validated. Platform-neutral: no chat ids here. */
export interface VideoRequest {
  topic: string;
  durationSec: number;
  /** An explicit tier (flag, option or admin override); otherwise chosen from the duration. */
  tier?: Tier;
  /** Narration language (BCP 47 primary tag, e.g. `en`, `ru`); detected from the topic when absent. */
  lang: string;
  aspect: Aspect;
  /** The user's own narration, used as written. */
  script?: string;
  /** Caption preset; the default style when absent. */
  captions?: CaptionStyle;
}

export interface RawVideoRequest {
  topic?: string;
  duration?: string | number;
  tier?: string;
  lang?: string;
  aspect?: string;
  script?: string;
  captions?: string;
}

const durationRange = { min: MIN_DURATION_SEC, max: MAX_DURATION_SEC };

export function parseDuration(value: string | number | undefined): number {
  if (value === undefined || value === '') return DEFAULT_DURATION_SEC;
  const text = String(value).trim().replace(/s(ec(onds?)?)?$/i, '');
  if (!/^\d+$/.test(text)) {
    throw badInput(
      'duration_not_number',
      `"${String(value).slice(0, 20)}" is not a duration: give whole seconds from ${MIN_DURATION_SEC} to ${MAX_DURATION_SEC}.`,
      durationRange,
    );
  }
  const seconds = Number(text);
  if (seconds < MIN_DURATION_SEC || seconds > MAX_DURATION_SEC) {
    throw badInput('duration_range', `A video can be ${MIN_DURATION_SEC} to ${MAX_DURATION_SEC} seconds long, not ${seconds}.`, {
      value: seconds,
      ...durationRange,
    });
  }
  return seconds;
}

/** Collapses whitespace and removes control characters; the topic goes into prompts and file names. */
export function normalizeTopic(topic: string): string {
  // eslint-disable-next-line no-control-regex
  return topic.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
}

export function validateVideoRequest(raw: RawVideoRequest): VideoRequest {
  const durationSec = parseDuration(raw.duration);
  const script = raw.script?.trim();
  const topic = normalizeTopic(raw.topic ?? '');
  if (topic.length === 0 && !script) {
    throw badInput('topic_empty', 'Tell me what the video is about, e.g. 30 "The fall of Constantinople".');
  }
  if (topic.length > MAX_TOPIC_CHARS) {
    throw badInput('topic_too_long', `The topic is ${topic.length} characters long; keep it under ${MAX_TOPIC_CHARS}.`, {
      value: topic.length,
      max: MAX_TOPIC_CHARS,
    });
  }
  if (script !== undefined && script.length > 20_000) {
    throw badInput('script_too_long', 'The script is too long: keep it under 20,000 characters.', { max: 20_000 });
  }
  let tier: Tier | undefined;
  if (raw.tier !== undefined && raw.tier !== '' && raw.tier !== 'auto') {
    if (!isTier(raw.tier)) {
      throw badInput('tier', `Unknown tier "${raw.tier.slice(0, 20)}": use ultra_fast, balanced or quality.`);
    }
    tier = raw.tier;
  }
  const aspect = raw.aspect ?? '9:16';
  if (!(ASPECTS as readonly string[]).includes(aspect)) {
    throw badInput('aspect', `Unknown aspect "${aspect.slice(0, 20)}": use 9:16, 16:9 or 1:1.`);
  }
  const lang = raw.lang?.trim().toLowerCase();
  if (lang !== undefined && lang !== '' && !/^[a-z]{2,3}$/.test(lang)) {
    throw badInput('lang', `Unknown language "${lang.slice(0, 20)}": use a two-letter code such as en or ru.`);
  }
  const captions = raw.captions?.trim().toLowerCase();
  if (captions !== undefined && captions !== '' && !isCaptionStyle(captions)) {
    throw badInput('captions', `Unknown caption style "${captions.slice(0, 20)}": use ${CAPTION_STYLES.join(', ')}.`);
  }
  const effectiveTopic = topic || firstWords(script ?? '', 8);
  return {
    topic: effectiveTopic,
    durationSec,
    ...(tier ? { tier } : {}),
    lang: lang || detectLanguage(`${effectiveTopic} ${script ?? ''}`),
    aspect: aspect as Aspect,
    ...(script ? { script } : {}),
    ...(captions && isCaptionStyle(captions) ? { captions } : {}),
  };
}

/**
 * Parses the text after a chat command: `30 The fall of Constantinople`, `The fall of Constantinople`
 * (30 s), `30s topic`. A leading token that looks like a number but is not a valid duration is an error,
 * not part of the topic, so `/video 999 x` is refused rather than turned into a 30 s video about "999 x".
 */
export function parseVideoCommandText(text: string): { duration?: string; topic: string } {
  const trimmed = text.trim();
  const match = /^(\S+)\s*([\s\S]*)$/.exec(trimmed);
  if (!match) return { topic: '' };
  const first = match[1] ?? '';
  if (/^-?\d+(\.\d+)?(s|sec|seconds?)?$/i.test(first)) return { duration: first, topic: match[2] ?? '' };
  return { topic: trimmed };
}

function firstWords(text: string, count: number): string {
  return text.split(/\s+/).filter(Boolean).slice(0, count).join(' ');
}

export function aspectSize(aspect: Aspect, longSide = 1920): { width: number; height: number } {
  const shortSide = Math.round((longSide * 9) / 16 / 2) * 2;
  switch (aspect) {
    case '9:16':
      return { width: shortSide, height: longSide };
    case '16:9':
      return { width: longSide, height: shortSide };
    case '1:1':
      return { width: shortSide, height: shortSide };
  }
}
