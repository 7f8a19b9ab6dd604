/** The video model: a script is a list of segments; everything else is derived from it. */
import type { Tier } from '../core/tiers.js';

export const MOODS = ['calm', 'epic', 'dark', 'upbeat', 'mysterious'] as const;
export type Mood = (typeof MOODS)[number];

/** Facts that keep pictures true to the story: the design's "context analysis". */
export interface StoryContext {
  era?: string;
  region?: string;
  people: string[];
  /** Things images must not show (anachronisms, wrong places, unsafe content). */
  avoid: string[];
}

/** Characters' looks and the art style, appended to every image prompt. */
export interface VisualBible {
  style: string;
  characters: Array<{ name: string; look: string }>;
}

export interface Segment {
  index: number;
  /** What the voice says during this segment. */
  narration: string;
  /** What the picture shows. */
  imagePrompt: string;
  /** People the picture shows, by name (drives the multi-subject fix and the bible). */
  people: string[];
  /** Two to four key words: the offline illustrator's title, and a short label in logs. */
  keywords?: string;
  /** When set, this segment reuses the picture of an earlier, near-identical segment. */
  reuseImageOf?: number;
  /** Which take of the picture: another number asks for another picture of the same prompt (a re-roll). */
  take?: number;
}

export interface ScriptMeta {
  title: string;
  lang: string;
  mood: Mood;
  /** True when the script is the offline template, not a written story. */
  draft: boolean;
  context?: StoryContext;
  bible?: VisualBible;
  /** Art style for every image, when no bible is made. */
  style?: string;
}

export interface Script extends ScriptMeta {
  segments: Segment[];
}

export interface OutputFormat {
  width: number;
  height: number;
  fps: number;
  tier: Tier;
}
