/**
 * The ports the pipeline needs. Implementations live in `src/providers/`; each has an in-memory
 * or offline twin and passes the shared contract suite in `test/contracts/`.
 */
import type { CaptionStyle } from '../core/caption-style.js';
import type { LlmUsage } from '../core/receipt.js';
import type { TierProfile } from '../core/tiers.js';
import type { Mood, Script, ScriptMeta, Segment, StoryContext } from './model.js';

// ---------------------------------------------------------------- script

export interface ScriptInput {
  topic: string;
  durationSec: number;
  lang: string;
  profile: TierProfile;
  /** Make a visual bible (characters' looks, art style). */
  wantBible: boolean;
  /** The user's own narration, already split into segments: keep it word for word, add pictures. */
  narration?: string[];
  /** How many segments to aim for. */
  targetSegments: number;
  /** Another take of the same request (a new script for a storyboard): 0 or absent for the first. */
  take?: number;
  /** Narration words for the asked length at the voice's measured speaking rate (see narration.ts). */
  targetWords?: number;
}

export type ScriptEvent =
  | { type: 'meta'; meta: ScriptMeta }
  | { type: 'segment'; segment: Segment }
  | { type: 'usage'; usage: LlmUsage };

/**
 * Writes the script as a stream: `meta` first, then each segment the moment it is complete, then
 * the usage of every LLM call it made. Offline writers yield the same events without a network.
 */
export interface ScriptWriter {
  readonly offline: boolean;
  write(input: ScriptInput, signal?: AbortSignal): AsyncIterable<ScriptEvent>;
}

/** Batched LLM rewrites for the segments that local checks flagged (dedup, multi-subject). */
export interface PromptFixer {
  rewrite(
    input: { segments: Segment[]; reasons: Record<number, string>; context?: StoryContext; lang: string },
    signal?: AbortSignal,
  ): Promise<{ prompts: Record<number, string>; usage: LlmUsage }>;
}

// ---------------------------------------------------------------- images

export interface ImageRequest {
  prompt: string;
  /** The art style / visual bible text, kept apart so caches and providers can treat it as a prefix. */
  style: string;
  width: number;
  height: number;
  /** Position in the video, so offline art can vary composition. */
  index: number;
  total: number;
  mood: Mood;
  /** Short title for offline art. */
  keywords: string;
  /** Which take of this picture (a re-roll): another number is another picture, also in the caches. */
  take?: number;
}

export interface ImageResult {
  data: Buffer;
  ext: 'png' | 'jpg' | 'webp';
  /** Served from a cache: no provider call was paid. */
  cached?: boolean;
}

export interface ImageProvider {
  readonly offline: boolean;
  /** Model name, part of cache keys and of the receipt. */
  readonly model: string;
  generate(request: ImageRequest, signal?: AbortSignal): Promise<ImageResult>;
}

// ---------------------------------------------------------------- speech

export interface SpeechRequest {
  text: string;
  lang: string;
  voice?: string;
}

export interface SpeechMark {
  text: string;
  startSec: number;
  endSec: number;
}

/** One word of the script and when it is spoken (seconds from the start of the clip). */
export interface WordTiming {
  /** The script's own word (a whitespace-separated token), never recognised text. */
  text: string;
  startSec: number;
  endSec: number;
}

export interface SpeechResult {
  data: Buffer;
  ext: 'wav' | 'mp3' | 'opus' | 'aac' | 'flac';
  /** Measured length when the provider knows it (WAV); otherwise the pipeline probes the file. */
  durationSec?: number;
  /** Sentence (or finer) timings when the provider knows them. */
  marks?: SpeechMark[];
  /** Every word of the text in order, when the provider (or a timing source) measured them. */
  words?: WordTiming[];
  /** Seconds of audio sent to a paid transcription endpoint to time the words. */
  transcribedSec?: number;
  cached?: boolean;
}

export interface SpeechProvider {
  readonly offline: boolean;
  readonly model: string;
  /** Spoken words a second for a language (measured for the voice), to size the narration. */
  wordsPerSecond?(lang: string): number;
  synthesize(request: SpeechRequest, signal?: AbortSignal): Promise<SpeechResult>;
}

// ---------------------------------------------------------------- music

export interface MusicBed {
  path: string;
  source: 'generated' | 'library';
  title: string;
  license?: string;
}

export interface MusicProvider {
  /** Writes (or picks) a music bed at least `durationSec` long for the mood into `dir`. */
  bed(request: { mood: Mood; durationSec: number; seed: string; dir: string }, signal?: AbortSignal): Promise<MusicBed>;
}

// ---------------------------------------------------------------- assembly

export interface Cue {
  /** The script's words, separated by single spaces. */
  text: string;
  startSec: number;
  endSec: number;
  /** The look (default 'clean'). */
  look?: CaptionStyle;
  /** Index of the word (space-separated) being spoken, drawn in the highlight colour. */
  highlight?: number;
  /** Indexes of words drawn in the accent colour throughout (the pop style's key word). */
  accent?: number[];
  /** The cue continues the previous one / goes on into the next (a karaoke page): no fade at that edge. */
  joinPrev?: boolean;
  joinNext?: boolean;
}

export interface Motion {
  /** Zoom at the start and end (1 = the frame exactly). */
  zoomFrom: number;
  zoomTo: number;
  /** Pan of the visible window's centre, as a fraction of the free margin in [-1, 1]. */
  panFrom: { x: number; y: number };
  panTo: { x: number; y: number };
}

export interface SegmentRenderInput {
  index: number;
  imagePath: string;
  /** Exact length in seconds, a whole number of frames. */
  durationSec: number;
  /** Subtitle cues, in seconds from the segment's start. */
  cues: Cue[];
  motion: Motion;
  width: number;
  height: number;
  fps: number;
  x264Preset: string;
  /** Fade from black at the start / to black at the end, in seconds (first and last segment). */
  fadeInSec: number;
  fadeOutSec: number;
  lang: string;
  outPath: string;
  /**
   * The destination's upload limit and the length asked for: the assembler caps the video bitrate
   * so the whole file fits on the first encode (the voice sets the real length, so it allows more).
   */
  sizeLimit?: { maxBytes: number; durationSec: number };
}

export interface RenderedSegment {
  index: number;
  path: string;
  durationSec: number;
  /** Taken from the encoded-segment cache: nothing was encoded. */
  cached?: boolean;
}

export interface VoiceClip {
  path: string;
  /** Start in seconds from the start of the video. */
  offsetSec: number;
}

export interface AudioMixInput {
  voice: VoiceClip[];
  musicPath: string;
  durationSec: number;
  outPath: string;
}

/** The finished sound track: voice over ducked music, at the target loudness, encoded. */
export interface MixedAudio {
  path: string;
  durationSec: number;
}

export interface FinishInput {
  segments: RenderedSegment[];
  /** The sound track from `mixAudio`, copied in as it is. */
  audio: MixedAudio;
  durationSec: number;
  outPath: string;
  /** Metadata title. */
  title: string;
}

export interface FinishedVideo {
  path: string;
  durationSec: number;
  width: number;
  height: number;
  sizeBytes: number;
}

/** A JPEG preview of a video. */
export interface Thumbnail {
  path: string;
  width: number;
  height: number;
}

export interface VideoAssembler {
  renderSegment(input: SegmentRenderInput, signal?: AbortSignal): Promise<RenderedSegment>;
  /**
   * The sound track. It needs only the voices and the music, so the pipeline makes it while the
   * last segments still wait for their pictures or render, and `finish` only joins.
   */
  mixAudio(input: AudioMixInput, signal?: AbortSignal): Promise<MixedAudio>;
  /** Joins the segments and the sound track without re-encoding either. */
  finish(input: FinishInput, signal?: AbortSignal): Promise<FinishedVideo>;
  /** Length of an audio or video file in seconds. */
  probeDurationSec(path: string, signal?: AbortSignal): Promise<number>;
  /** A JPEG preview at `atSec` that fits in 320x320 (Telegram's thumbnail box), keeping the aspect. */
  thumbnail(videoPath: string, outPath: string, atSec: number, signal?: AbortSignal): Promise<Thumbnail>;
  /**
   * The video at `outPath`, at most `maxBytes` long: a copy when it already fits, else re-encoded
   * smaller. `too_large` (with `bytes` and `limitBytes`) and no output when it cannot fit.
   */
  fitToSize(inPath: string, outPath: string, maxBytes: number, signal?: AbortSignal): Promise<FinishedVideo>;
  /**
   * Changes a voice clip of `durationSec` by `factor` in speed (>1 faster) keeping its pitch, into
   * `outPath` (WAV); returns the new length. Used within 0.9-1.1 to fit the voice to the asked length.
   */
  retimeVoice(input: RetimeInput, signal?: AbortSignal): Promise<number>;
}

export interface RetimeInput {
  path: string;
  durationSec: number;
  factor: number;
  outPath: string;
}

export type { Script };
