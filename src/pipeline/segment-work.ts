/**
 * Per-segment work: the moment a segment arrives its picture and voice start; its voice is placed
 * on the timeline once the segment before it is placed (and fitted to the asked length); it is
 * encoded as soon as its picture and placed voice exist. The sound track is mixed from the placed
 * voices while pictures and renders may still run.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CaptionStyle } from '../core/caption-style.js';
import { ReelforgeError, throwIfCancelled } from '../core/errors.js';
import type { Stage } from '../core/progress.js';
import type { TierProfile } from '../core/tiers.js';
import { buildStyledCues, estimateMarks, estimateWords } from './captions.js';
import type { SegmentDecision } from './dedup.js';
import type { HeldSegments } from './held-segments.js';
import type { Script, ScriptMeta, Segment } from './model.js';
import { tempoToFit } from './narration.js';
import type { ImageProvider, MixedAudio, MusicBed, RenderedSegment, SpeechMark, SpeechProvider, VideoAssembler, VoiceClip, WordTiming } from './ports.js';
import type { RunControl } from './run-control.js';
import { fittedTiming, motionFor, voiceRoom, type SegmentPlace, type SegmentTiming } from './timeline.js';

/** What every segment of one run shares. */
export interface SegmentShape {
  profile: TierProfile;
  width: number;
  height: number;
  /** The request's language, until the script says its own. */
  lang: string;
  /** The asked length: the last segment ends on it. */
  targetSec: number;
  captions: CaptionStyle;
  workDir: string;
  voice?: string;
  /** The destination's upload limit and the length asked for, if there is a destination. */
  sizeLimit?: { maxBytes: number; durationSec: number };
}

export interface SegmentDeps {
  images: ImageProvider;
  speech: SpeechProvider;
  assembler: VideoAssembler;
}

interface VoiceOut {
  path: string;
  durationSec: number;
  marks: SpeechMark[];
  /** Measured word timings, or estimated from the marks when no timing source gave them. */
  words: WordTiming[];
}

interface SegmentWork {
  segment: Segment;
  image: Promise<string>;
  voice: Promise<VoiceOut>;
  /** The segment's length and where its voice starts in it: known once its voice is placed. */
  timed: Promise<SegmentTiming>;
  /** Where the segment ends on the timeline. */
  endSec: Promise<number>;
  rendered: Promise<RenderedSegment>;
  /** Resolves with whether this segment is the last, once that is known. */
  isLast: Promise<boolean>;
  resolveIsLast: (last: boolean) => void;
}

/** What the segments made and reused, for the receipt. */
export interface SegmentStats {
  imagesGenerated: number;
  imagesReused: number;
  ttsCharacters: number;
  voices: { generated: number; reused: number };
  encodes: { made: number; reused: number };
  /** Seconds of voice sent to a transcription endpoint for word timings. */
  transcribedSec: number;
}

export class SegmentWorks {
  /** The script's metadata, once it has streamed in (pictures wait for its style). */
  meta: ScriptMeta | undefined;
  readonly stats: SegmentStats = {
    imagesGenerated: 0,
    imagesReused: 0,
    ttsCharacters: 0,
    voices: { generated: 0, reused: 0 },
    encodes: { made: 0, reused: 0 },
    transcribedSec: 0,
  };
  private readonly works: SegmentWork[] = [];
  private readonly counts = { images: 0, voice: 0, render: 0 };
  private streamDone = false;
  /** Each segment's picture prompt as sent (a rewrite replaces the written one). */
  private readonly promptsUsed = new Map<number, string>();

  constructor(
    private readonly shape: SegmentShape,
    private readonly deps: SegmentDeps,
    private readonly control: RunControl,
    private readonly held: HeldSegments,
    /** Segments expected; the real count once the script is complete. */
    public total: number,
  ) {}

  get segments(): Segment[] {
    return this.works.map((w) => w.segment);
  }

  get length(): number {
    return this.works.length;
  }

  /** Starts a segment's picture (per the local checks' decision), voice and render; `plannedEndSec` is where it should end. */
  start(segment: Segment, decision: SegmentDecision, plannedEndSec: number): void {
    const { control } = this;
    let resolveIsLast: (last: boolean) => void = () => {};
    const isLast = new Promise<boolean>((resolve) => (resolveIsLast = resolve));
    const raw = control.track(this.makeVoice(segment));
    // Each voice is placed after the one before it: where a segment starts is where that one ended.
    const startSec = this.works[segment.index - 1]?.endSec ?? Promise.resolve(0);
    const fitted = Promise.all([raw, isLast, startSec]).then(([v, last, start]) => this.placeVoice(segment, v, last, start, plannedEndSec));
    const voice = control.track(fitted.then((f) => f.voice));
    const timed = control.track(fitted.then((f) => f.timing));
    const endSec = control.track(Promise.all([startSec, timed]).then(([start, timing]) => start + timing.durationSec));
    const image = control.track(this.pictureFor(segment, decision));
    const rendered = control.track(
      Promise.all([image, voice, timed, isLast]).then(([imagePath, v, timing, last]) => this.render(segment, imagePath, v, timing, last)),
    );
    this.works.push({ segment, image, voice, timed, endSec, rendered, isLast, resolveIsLast });
    // The previous segment now knows it is not the last one.
    this.works[segment.index - 1]?.resolveIsLast(false);
  }

  /** The script is complete: the last segment knows it is last, and every count shows its real total. */
  streamEnded(): void {
    this.streamDone = true;
    this.total = this.works.length;
    this.works.at(-1)?.resolveIsLast(true);
  }

  /** Shows each stage's count against the real total (and the stages already complete as done). */
  announceCounts(): void {
    for (const stage of ['images', 'voice', 'render'] as const) {
      this.control.emit({ type: 'count', stage, done: this.counts[stage], total: this.total });
      if (this.counts[stage] === this.total) this.control.emit({ type: 'stage', stage, status: 'done' });
    }
  }

  /** Every voice at its place on the timeline, over the music bed, as soon as all exist. */
  async mixAudio(bed: Promise<MusicBed>): Promise<MixedAudio> {
    const { control } = this;
    const [voices, timings, musicBed] = await Promise.all([Promise.all(this.works.map((w) => w.voice)), Promise.all(this.works.map((w) => w.timed)), bed]);
    throwIfCancelled(control.signal);
    const clips: VoiceClip[] = [];
    let offset = 0;
    timings.forEach((timing, i) => {
      clips.push({ path: voices[i]!.path, offsetSec: offset + timing.voiceOffsetSec });
      offset += timing.durationSec;
    });
    control.mark('audio');
    const mixed = await this.deps.assembler.mixAudio(
      { voice: clips, musicPath: musicBed.path, durationSec: offset, outPath: join(this.shape.workDir, 'audio.m4a') },
      control.signal,
    );
    control.mark('audio');
    return mixed;
  }

  rendered(): Promise<RenderedSegment[]> {
    return Promise.all(this.works.map((w) => w.rendered));
  }

  /** The script exactly as rendered (rewritten picture prompts in place). */
  scriptAsRendered(meta: ScriptMeta): Script {
    return { ...meta, segments: this.works.map((w) => ({ ...w.segment, imagePrompt: this.promptsUsed.get(w.segment.index) ?? w.segment.imagePrompt })) };
  }

  /** Lets every segment that waits to know whether it is last go (a failed run's cleanup). */
  releaseAll(): void {
    for (const w of this.works) w.resolveIsLast(false);
  }

  private count(stage: Stage & keyof SegmentWorks['counts']): void {
    this.counts[stage] += 1;
    this.control.emit({ type: 'count', stage, done: this.counts[stage], total: Math.max(this.total, this.counts[stage]) });
    if (this.streamDone && this.counts[stage] === this.total) this.control.emit({ type: 'stage', stage, status: 'done' });
  }

  private pictureFor(segment: Segment, decision: SegmentDecision): Promise<string> {
    const earlier = decision.action === 'reuse' ? this.works[decision.of] : undefined;
    if (decision.action === 'reuse' && earlier) {
      const of = decision.of;
      return earlier.image.then((path) => {
        // The same picture: the same prompt, so a re-render of this script finds it in the cache.
        const prompt = this.promptsUsed.get(of);
        if (prompt !== undefined) this.promptsUsed.set(segment.index, prompt);
        this.stats.imagesReused += 1;
        this.count('images');
        return path;
      });
    }
    const prompt = decision.action === 'hold' ? this.held.hold(segment, decision.reason) : Promise.resolve(undefined);
    return prompt.then((rewritten) => this.makeImage(segment, rewritten));
  }

  private async makeImage(segment: Segment, rewritten: string | undefined): Promise<string> {
    const { control, shape } = this;
    throwIfCancelled(control.signal);
    const meta = this.meta;
    if (!meta) throw new ReelforgeError('internal', 'Script metadata arrived after a segment.');
    const prompt = rewritten ?? segment.imagePrompt;
    this.promptsUsed.set(segment.index, prompt);
    control.mark('images');
    const result = await this.deps.images.generate(
      {
        prompt,
        style: styleText(meta),
        width: shape.width,
        height: shape.height,
        index: segment.index,
        total: Math.max(this.total, segment.index + 1),
        mood: meta.mood,
        keywords: segment.keywords ?? segment.narration.split(/\s+/).slice(0, 3).join(' '),
        ...(segment.take ? { take: segment.take } : {}),
      },
      control.signal,
    );
    if (result.cached) this.stats.imagesReused += 1;
    else this.stats.imagesGenerated += 1;
    const path = join(shape.workDir, `image-${pad(segment.index)}.${result.ext}`);
    await writeFile(path, result.data);
    control.mark('images');
    this.count('images');
    return path;
  }

  private async makeVoice(segment: Segment): Promise<VoiceOut> {
    const { control, shape, stats } = this;
    control.mark('voice');
    const lang = this.meta?.lang ?? shape.lang;
    const result = await this.deps.speech.synthesize({ text: segment.narration, lang, ...(shape.voice ? { voice: shape.voice } : {}) }, control.signal);
    if (!result.cached) stats.ttsCharacters += segment.narration.length;
    stats.voices[result.cached ? 'reused' : 'generated'] += 1;
    const path = join(shape.workDir, `voice-${pad(segment.index)}.${result.ext}`);
    await writeFile(path, result.data);
    const durationSec = result.durationSec ?? (await this.deps.assembler.probeDurationSec(path, control.signal));
    const marks = result.marks?.length ? result.marks : estimateMarks(segment.narration, durationSec);
    if (result.transcribedSec) stats.transcribedSec += result.transcribedSec;
    // A failed or missing timing source costs only precision: the words are estimated from the marks.
    const words = result.words?.length ? result.words : estimateWords(marks);
    control.mark('voice');
    this.count('voice');
    return { path, durationSec, marks, words };
  }

  /**
   * Puts a voice on the timeline so the video lands on the asked length: the voice may change speed
   * by up to ±10 % to fit the room its planned words have from where the segment starts, and the
   * pause after it (the last picture's hold, for the last) takes up what is left within bounds. A
   * voice faster or slower than measured, or a narration a little long so far, still ends on time.
   */
  private async placeVoice(
    segment: Segment,
    raw: VoiceOut,
    last: boolean,
    startSec: number,
    plannedEndSec: number,
  ): Promise<{ voice: VoiceOut; timing: SegmentTiming }> {
    throwIfCancelled(this.control.signal);
    const { targetSec, profile } = this.shape;
    const place: SegmentPlace = { first: segment.index === 0, last, startSec, targetEndSec: last ? targetSec : plannedEndSec };
    const tempo = tempoToFit(raw.durationSec, voiceRoom(place));
    const voice = tempo === 1 ? raw : await this.retimeVoice(segment, raw, tempo);
    return { voice, timing: fittedTiming(voice.durationSec, profile.fps, place, targetSec) };
  }

  private async retimeVoice(segment: Segment, voice: VoiceOut, tempo: number): Promise<VoiceOut> {
    const path = join(this.shape.workDir, `voice-${pad(segment.index)}-fit.wav`);
    const durationSec = await this.deps.assembler.retimeVoice({ path: voice.path, durationSec: voice.durationSec, factor: tempo, outPath: path }, this.control.signal);
    const at = (t: number): number => Math.round((t / tempo) * 1000) / 1000;
    return {
      path,
      durationSec,
      marks: voice.marks.map((m) => ({ ...m, startSec: at(m.startSec), endSec: at(m.endSec) })),
      words: voice.words.map((w) => ({ ...w, startSec: at(w.startSec), endSec: at(w.endSec) })),
    };
  }

  private async render(segment: Segment, imagePath: string, voice: VoiceOut, timing: SegmentTiming, last: boolean): Promise<RenderedSegment> {
    const { control, shape } = this;
    throwIfCancelled(control.signal);
    const lang = this.meta?.lang ?? shape.lang;
    control.mark('render');
    const out = await this.deps.assembler.renderSegment(
      {
        index: segment.index,
        imagePath,
        durationSec: timing.durationSec,
        // A shortened pause may end the segment before the last caption's hold: it leaves with the picture.
        cues: buildStyledCues(voice.words, shape.captions, timing.voiceOffsetSec, lang).map((cue) =>
          cue.endSec > timing.durationSec ? { ...cue, endSec: timing.durationSec } : cue,
        ),
        motion: motionFor(segment.index),
        width: shape.width,
        height: shape.height,
        fps: shape.profile.fps,
        x264Preset: shape.profile.x264Preset,
        fadeInSec: segment.index === 0 ? 0.5 : 0,
        fadeOutSec: last ? 1 : 0,
        lang,
        outPath: join(shape.workDir, `segment-${pad(segment.index)}.mp4`),
        ...(shape.sizeLimit ? { sizeLimit: shape.sizeLimit } : {}),
      },
      control.signal,
    );
    control.mark('render');
    this.stats.encodes[out.cached ? 'reused' : 'made'] += 1;
    this.count('render');
    return out;
  }
}

function styleText(meta: ScriptMeta): string {
  if (meta.bible) {
    const people = meta.bible.characters.map((c) => `${c.name}: ${c.look}`).join('; ');
    return people ? `${meta.bible.style}. Characters: ${people}` : meta.bible.style;
  }
  return meta.style ?? '';
}

function pad(index: number): string {
  return String(index).padStart(3, '0');
}
