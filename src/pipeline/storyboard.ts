/**
 * A storyboard: the script of a video as a file a person can read and edit before anything but the
 * script is paid for. Each segment is what is spoken (`narration`) and what the picture shows
 * (`picture`, the image prompt). Rendering a storyboard skips the script writer; the content caches
 * make an edited one cost only what changed (a new line: one speech call; a new picture: one image
 * call; untouched segments are not even re-encoded).
 */
import { z } from 'zod';
import { ReelforgeError, throwIfCancelled } from '../core/errors.js';
import { addUsage, emptyUsage, type LlmUsage } from '../core/receipt.js';
import { ASPECTS, MAX_DURATION_SEC, MIN_DURATION_SEC, type VideoRequest } from '../core/request.js';
import { TIER_PROFILES, TIERS, tierForDuration, type Tier, type TierProfile } from '../core/tiers.js';
import { MOODS, type Script, type Segment } from './model.js';
import type { ScriptEvent, ScriptInput, ScriptWriter } from './ports.js';
import { capNarration, planNarration, segmentWordLimit } from './narration.js';
import { countWords, splitNarration, targetSegmentCount } from './segmenting.js';

export const STORYBOARD_VERSION = 1;
/** Bounds that keep one storyboard a short video: a render, not a batch job. */
export const MAX_STORYBOARD_SEGMENTS = 60;
export const MAX_NARRATION_CHARS = 600;
export const MAX_PICTURE_CHARS = 1000;

const text = (what: string, max: number) =>
  z
    .string({ error: `${what} must be text` })
    .trim()
    .min(1, { error: `${what} must not be empty` })
    .max(max, { error: `${what} is longer than ${max} characters` });

const segmentSchema = z
  .object({
    narration: text('the narration', MAX_NARRATION_CHARS),
    picture: text('the picture', MAX_PICTURE_CHARS),
    /** People the picture shows, by name (kept from the script; optional when editing). */
    people: z.array(z.string()).default([]),
    keywords: z.string().optional(),
    /** Raise it for another picture of the same description (a re-roll). */
    take: z.number({ error: 'take must be a number' }).int({ error: 'take must be a whole number' }).min(0).max(1000).optional(),
  })
  .strict();

const storyboardSchema = z
  .object({
    version: z.literal(STORYBOARD_VERSION, { error: `version must be ${STORYBOARD_VERSION}` }),
    title: text('the title', 200),
    topic: text('the topic', 300),
    language: z.string().regex(/^[a-z]{2,3}$/, { error: 'language must be a two-letter code such as en or ru' }),
    tier: z.enum(TIERS, { error: `tier must be one of ${TIERS.join(', ')}` }),
    /** The length asked for; the voice sets the real one. */
    seconds: z
      .number({ error: 'seconds must be a number' })
      .int({ error: 'seconds must be a whole number' })
      .min(MIN_DURATION_SEC, { error: `seconds must be ${MIN_DURATION_SEC} to ${MAX_DURATION_SEC}` })
      .max(MAX_DURATION_SEC, { error: `seconds must be ${MIN_DURATION_SEC} to ${MAX_DURATION_SEC}` }),
    aspect: z.enum(ASPECTS, { error: `aspect must be one of ${ASPECTS.join(', ')}` }).default('9:16'),
    mood: z.enum(MOODS, { error: `mood must be one of ${MOODS.join(', ')}` }),
    /** The art style added to every picture (when there is no visual bible). */
    style: z.string().optional(),
    /** Characters' looks and the art style, added to every picture. */
    bible: z
      .object({ style: z.string(), characters: z.array(z.object({ name: z.string(), look: z.string() }).strict()) })
      .strict()
      .optional(),
    context: z
      .object({ era: z.string().optional(), region: z.string().optional(), people: z.array(z.string()).default([]), avoid: z.array(z.string()).default([]) })
      .strict()
      .optional(),
    /** A voice name for the speech provider; the configured one when absent. */
    voice: z.string().trim().min(1).max(64).optional(),
    /** True when the script is the offline template, not a written story. */
    draft: z.boolean().default(false),
    segments: z
      .array(segmentSchema, { error: 'segments must be a list of scenes' })
      .min(1, { error: 'segments must have at least one scene' })
      .max(MAX_STORYBOARD_SEGMENTS, { error: `segments can have at most ${MAX_STORYBOARD_SEGMENTS} scenes` }),
  })
  .strict();

export type Storyboard = z.output<typeof storyboardSchema>;
export type StoryboardSegment = Storyboard['segments'][number];

/** Checks a storyboard (parsed JSON); throws `bad_input` naming every wrong field. */
export function validateStoryboard(value: unknown, source = 'The storyboard'): Storyboard {
  const result = storyboardSchema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 5).map((issue) => {
    const where = issue.path.map((p, i) => (typeof p === 'number' ? `[${p + 1}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
    if (issue.code === 'unrecognized_keys') return `${where ? `${where}: ` : ''}unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    return where ? `${where}: ${issue.message}` : issue.message;
  });
  const more = result.error.issues.length > 5 ? ` (and ${result.error.issues.length - 5} more)` : '';
  // Scenes are counted from 1 in messages, as people number them.
  throw new ReelforgeError('bad_input', `${source} is not valid: ${problems.join('; ')}${more}.`, { params: { reason: 'storyboard_invalid' } });
}

/** Parses a storyboard file's text. */
export function parseStoryboard(json: string, source = 'The storyboard'): Storyboard {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new ReelforgeError('bad_input', `${source} is not valid JSON: ${(error as Error).message}.`, { params: { reason: 'storyboard_json' } });
  }
  return validateStoryboard(value, source);
}

/** The file's text: two-space JSON with a trailing newline, stable field order. */
export function formatStoryboard(storyboard: Storyboard): string {
  return `${JSON.stringify(storyboard, null, 2)}\n`;
}

/** The request a storyboard renders as (the topic and length it was written for). */
export function storyboardRequest(storyboard: Storyboard): VideoRequest {
  return { topic: storyboard.topic, durationSec: storyboard.seconds, tier: storyboard.tier, lang: storyboard.language, aspect: storyboard.aspect };
}

/** The pipeline's script for a storyboard: the segments as written, in order. */
export function storyboardScript(storyboard: Storyboard): Script {
  return {
    title: storyboard.title,
    lang: storyboard.language,
    mood: storyboard.mood,
    draft: storyboard.draft,
    ...(storyboard.style !== undefined ? { style: storyboard.style } : {}),
    ...(storyboard.bible ? { bible: storyboard.bible } : {}),
    ...(storyboard.context ? { context: storyboard.context } : {}),
    segments: storyboard.segments.map(
      (s, index): Segment => ({
        index,
        narration: s.narration,
        imagePrompt: s.picture,
        people: s.people,
        ...(s.keywords !== undefined ? { keywords: s.keywords } : {}),
        ...(s.take ? { take: s.take } : {}),
      }),
    ),
  };
}

export function scriptStoryboard(script: Script, request: VideoRequest, voice?: string): Storyboard {
  return {
    version: STORYBOARD_VERSION,
    title: script.title,
    topic: request.topic,
    language: script.lang,
    tier: request.tier ?? tierForDuration(request.durationSec),
    seconds: request.durationSec,
    aspect: request.aspect,
    mood: script.mood,
    ...(script.style !== undefined && !script.bible ? { style: script.style } : {}),
    ...(script.bible ? { bible: script.bible } : {}),
    ...(script.context ? { context: { ...script.context } } : {}),
    ...(voice ? { voice } : {}),
    draft: script.draft,
    segments: script.segments.map((s) => ({
      narration: s.narration,
      picture: s.imagePrompt,
      people: s.people,
      ...(s.keywords !== undefined ? { keywords: s.keywords } : {}),
      ...(s.take ? { take: s.take } : {}),
    })),
  };
}

/**
 * A script already written, as a writer: it streams the script's meta and segments as they are,
 * whatever it is asked for, and costs nothing (no usage event).
 */
export function scriptAsWriter(script: Script): ScriptWriter {
  return {
    offline: script.draft,
    // eslint-disable-next-line @typescript-eslint/require-await -- an async generator: the port streams events
    async *write(_input: ScriptInput, signal?: AbortSignal): AsyncIterable<ScriptEvent> {
      const { segments, ...meta } = script;
      throwIfCancelled(signal);
      yield { type: 'meta', meta };
      for (const segment of segments) {
        throwIfCancelled(signal);
        yield { type: 'segment', segment };
      }
    },
  };
}

/**
 * What the script writer is asked for a request: its own narration split into segments when the user
 * gave one (refused when it has no sentence), and the visual bible by tier and the user's wish.
 */
export function scriptInputFor(request: VideoRequest, profile: TierProfile, wantBible: boolean | undefined, targetWords?: number): ScriptInput {
  const narration = request.script ? splitNarration(request.script, targetSegmentCount(request.durationSec)) : undefined;
  if (request.script && (!narration || narration.length === 0)) {
    throw new ReelforgeError('bad_input', 'The script has no sentences to narrate.', { params: { reason: 'script_empty' } });
  }
  return {
    topic: request.topic,
    durationSec: request.durationSec,
    lang: request.lang,
    profile,
    wantBible: profile.visualBible === 'on' || (profile.visualBible === 'on_request' && Boolean(wantBible)),
    targetSegments: narration?.length ?? targetSegmentCount(request.durationSec),
    ...(narration ? { narration } : targetWords ? { targetWords } : {}),
  };
}

/**
 * Writes a storyboard: the script writer's one call, nothing else (no picture, no voice). With
 * `request.script`, the user's own narration is kept word for word and only pictures are written.
 */
export async function writeStoryboard(
  writer: ScriptWriter,
  request: VideoRequest,
  options: { wantBible?: boolean; voice?: string; signal?: AbortSignal; take?: number; wordsPerSecond?: number } = {},
): Promise<{ storyboard: Storyboard; usage: LlmUsage; offline: boolean }> {
  const tier: Tier = request.tier ?? tierForDuration(request.durationSec);
  const profile = TIER_PROFILES[tier];
  // Sized for the voice that will speak it, and capped as a render caps it (narration.ts).
  const plan = planNarration(request.durationSec, targetSegmentCount(request.durationSec), options.wordsPerSecond);
  const input = { ...scriptInputFor(request, profile, options.wantBible, plan.targetWords), ...(options.take ? { take: options.take } : {}) };
  let usage = emptyUsage();
  let meta: Omit<Script, 'segments'> | undefined;
  const segments: Segment[] = [];
  let words = 0;
  const stream = writer.write(input, options.signal);
  for await (const event of stream) {
    if (event.type === 'meta') meta = event.meta;
    else if (event.type === 'segment') {
      const narration = input.narration ? event.segment.narration : capNarration(event.segment.narration, segmentWordLimit(plan, input.targetSegments, segments.length, words));
      if (countWords(narration) === 0) continue;
      words += countWords(narration);
      segments.push({ ...event.segment, narration, index: segments.length });
    } else usage = addUsage(usage, event.usage);
  }
  if (!meta || segments.length === 0) throw new ReelforgeError('provider_unavailable', 'The script came back empty.', { retryable: true });
  const storyboard = scriptStoryboard({ ...meta, segments }, { ...request, tier }, options.voice);
  return { storyboard, usage, offline: writer.offline };
}

/**
 * One change to a storyboard, as a chat makes it: a scene's new line or picture (scenes counted
 * from 1, as people number them), another take of a scene's picture, or another voice for every line.
 */
export type StoryboardChange =
  | { kind: 'narration'; scene: number; text: string }
  | { kind: 'picture'; scene: number; text: string }
  | { kind: 'reroll'; scene: number }
  | { kind: 'voice'; voice: string };

/**
 * The storyboard with the changes made, checked again (an edit that breaks a rule is refused with
 * `bad_input`, naming the scene). The input is not modified.
 */
export function applyChanges(storyboard: Storyboard, changes: readonly StoryboardChange[]): Storyboard {
  const next: Storyboard = { ...storyboard, segments: storyboard.segments.map((s) => ({ ...s })) };
  for (const change of changes) {
    if (change.kind === 'voice') {
      next.voice = change.voice;
      continue;
    }
    const segment = next.segments[change.scene - 1];
    if (!segment) {
      throw new ReelforgeError('bad_input', `There is no scene ${change.scene}: the storyboard has scenes 1 to ${next.segments.length}.`, {
        params: { reason: 'storyboard_scene', value: change.scene, max: next.segments.length },
      });
    }
    if (change.kind === 'narration') segment.narration = change.text;
    else if (change.kind === 'picture') {
      segment.picture = change.text;
      delete segment.take;
    } else segment.take = (segment.take ?? 0) + 1;
  }
  return validateStoryboard(next, 'The edited storyboard');
}
