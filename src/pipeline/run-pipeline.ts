/**
 * The pipeline: topic in, MP4 out. Platform-neutral; every capability comes through a port.
 *
 * Everything that can overlap does: the script streams in segment by segment; each segment's
 * picture and voice start the moment it arrives (bounded per provider); each segment is encoded as
 * soon as its picture and voice exist; the music is made while all that runs; the final step only
 * joins the encoded segments and mixes the audio.
 */
import { setMaxListeners } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import PQueue from 'p-queue';
import { badInput, ReelforgeError, throwIfCancelled, toReelforgeError } from '../core/errors.js';
import type { ProgressEvent, ProgressListener, Stage } from '../core/progress.js';
import { addUsage, emptyUsage, type LlmUsage, type Receipt } from '../core/receipt.js';
import { aspectSize, type VideoRequest } from '../core/request.js';
import { TIER_PROFILES, tierForDuration, type TierProfile } from '../core/tiers.js';
import { DEFAULT_CAPTION_STYLE } from '../core/caption-style.js';
import { buildStyledCues, estimateMarks, estimateWords } from './captions.js';
import type { Script, ScriptMeta, Segment } from './model.js';
import type {
  ImageProvider,
  MixedAudio,
  MusicBed,
  MusicProvider,
  PromptFixer,
  RenderedSegment,
  ScriptWriter,
  SpeechProvider,
  SpeechMark,
  VideoAssembler,
  VoiceClip,
  WordTiming,
} from './ports.js';
import { capNarration, plannedEndSec, planNarration, segmentWordLimit, tempoToFit } from './narration.js';
import { countWords, targetSegmentCount } from './segmenting.js';
import { scriptAsWriter, scriptInputFor } from './storyboard.js';
import { fittedTiming, motionFor, voiceRoom, type SegmentPlace, type SegmentTiming } from './timeline.js';

export interface RunUsage {
  llm: LlmUsage;
  imagesGenerated: number;
  width: number;
  height: number;
  ttsCharacters: number;
  /** Seconds of voice sent to a transcription endpoint for word timings. */
  transcribedSec?: number;
}

/** What the local checks decided for a segment as it arrived. */
export type ReviewDecision = { action: 'go' } | { action: 'reuse'; of: number } | { action: 'hold'; reason: string };

/** Dedup and multi-subject checks: local, no LLM; only 'hold' segments go to the batched fixer. */
export type SegmentReview = (segment: Segment, earlier: readonly Segment[], context: ScriptMeta) => ReviewDecision;

export interface PipelineDeps {
  writer: ScriptWriter;
  images: ImageProvider;
  speech: SpeechProvider;
  music: MusicProvider;
  assembler: VideoAssembler;
  concurrency: { images: number; speech: number };
  voice?: string;
  /** The local checks for a tier (dedup, multi-subject); absent means every segment goes as written. */
  reviewFor?: (profile: TierProfile) => SegmentReview;
  fixer?: PromptFixer;
  estimateCost?: (usage: RunUsage) => number;
  now?: () => number;
}

export interface PipelineRun {
  request: VideoRequest;
  /** Scratch space for this run; the caller removes it. */
  workDir: string;
  outPath: string;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /** Ask for a visual bible on the balanced tier. */
  wantBible?: boolean;
  /** The destination's upload limit: the video bitrate is capped so the first encode fits it. */
  maxBytes?: number;
  /**
   * A script already written (a storyboard someone approved or edited): rendered as it is, without
   * the script writer or the local checks; the caches make what did not change free.
   */
  script?: Script;
  /** The voice for this run, over the provider's configured one. */
  voice?: string;
  /**
   * Told, once the video is made, the script exactly as rendered (rewritten picture prompts in
   * place): rendering it again as a given script makes nothing new (what a re-roll starts from).
   */
  onScript?: (script: Script) => void;
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

export async function runPipeline(run: PipelineRun, deps: PipelineDeps): Promise<Receipt> {
  const now = deps.now ?? (() => performance.now());
  const t0 = now();
  const { request } = run;
  const tier = request.tier ?? tierForDuration(request.durationSec);
  const profile = TIER_PROFILES[tier];
  const { width, height } = aspectSize(request.aspect);
  const fps = profile.fps;
  const given = run.script;
  const offline = (given ? given.draft : deps.writer.offline) || deps.images.offline || deps.speech.offline;
  const review = given ? undefined : deps.reviewFor?.(profile);
  const voiceName = run.voice ?? deps.voice;
  // The same for a script written now and for that script given back (a storyboard), so both place their voices alike.
  const plannedSegments = targetSegmentCount(request.durationSec);
  const plan = planNarration(request.durationSec, plannedSegments, deps.speech.wordsPerSecond?.(request.lang));
  let narrationWords = 0;
  /** Per segment: where it should end on the planned timeline (narration.ts). */
  const plannedEnds = new Map<number, number>();

  // One controller for the whole run: the caller's cancel, or the first failure, stops every task.
  const controller = new AbortController();
  let firstError: ReelforgeError | undefined;
  const onOuterAbort = (): void => {
    // The caller's reason (a person's cancel, or a shutdown the job resumes from) is the run's error.
    firstError ??= toReelforgeError(run.signal?.reason);
    controller.abort(firstError);
  };
  if (run.signal?.aborted) onOuterAbort();
  else run.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const signal = controller.signal;
  // Every provider call and render listens to this one signal.
  setMaxListeners(0, signal);
  const fail = (error: unknown): void => {
    if (!firstError) firstError = toReelforgeError(error);
    controller.abort(firstError);
  };

  const emit = (event: ProgressEvent): void => {
    try {
      run.onProgress?.(event);
    } catch {
      // A broken progress viewer must not break the render.
    }
  };
  const timings: Record<string, number> = {};
  const spans: Partial<Record<string, { start: number; end: number }>> = {};
  const mark = (name: string): void => {
    const t = now();
    const span = spans[name];
    if (!span) spans[name] = { start: t, end: t };
    else span.end = t;
  };

  const imageQueue = new PQueue({ concurrency: deps.concurrency.images });
  const speechQueue = new PQueue({ concurrency: deps.concurrency.speech });
  const work: SegmentWork[] = [];
  const counts = { images: 0, voice: 0, render: 0 };
  let total = given ? given.segments.length : request.script ? 0 : targetSegmentCount(request.durationSec);
  let llm = emptyUsage();
  let imagesGenerated = 0;
  let imagesReused = 0;
  let ttsCharacters = 0;
  const voices = { generated: 0, reused: 0 };
  const encodes = { made: 0, reused: 0 };
  let transcribedSec = 0;
  let meta: ScriptMeta | undefined;
  let music: Promise<MusicBed> | undefined;
  let audio: Promise<MixedAudio> | undefined;
  const held: Array<{ segment: Segment; reason: string; release: (prompt: string | undefined) => void }> = [];
  /** Each segment's picture prompt as sent (a rewrite replaces the written one). */
  const promptsUsed = new Map<number, string>();

  /** Every voice at its place on the timeline, over the music bed, as soon as all exist. */
  const mixAudio = async (segments: SegmentWork[], bed: Promise<MusicBed>): Promise<MixedAudio> => {
    const [voices, timings, musicBed] = await Promise.all([Promise.all(segments.map((w) => w.voice)), Promise.all(segments.map((w) => w.timed)), bed]);
    throwIfCancelled(signal);
    const clips: VoiceClip[] = [];
    let offset = 0;
    timings.forEach((timing, i) => {
      clips.push({ path: voices[i]!.path, offsetSec: offset + timing.voiceOffsetSec });
      offset += timing.durationSec;
    });
    mark('audio');
    const mixed = await deps.assembler.mixAudio({ voice: clips, musicPath: musicBed.path, durationSec: offset, outPath: join(run.workDir, 'audio.m4a') }, signal);
    mark('audio');
    return mixed;
  };

  const count = (stage: Stage & keyof typeof counts): void => {
    counts[stage] += 1;
    emit({ type: 'count', stage, done: counts[stage], total: Math.max(total, counts[stage]) });
    if (streamDone && counts[stage] === total) emit({ type: 'stage', stage, status: 'done' });
  };
  let streamDone = false;

  const makeImage = (segment: Segment, promptReady: Promise<string | undefined>): Promise<string> =>
    promptReady.then(async (rewritten) => {
      throwIfCancelled(signal);
      const currentMeta = meta;
      if (!currentMeta) throw new ReelforgeError('internal', 'Script metadata arrived after a segment.');
      promptsUsed.set(segment.index, rewritten ?? segment.imagePrompt);
      const result = await imageQueue.add(
        () => {
          mark('images');
          return deps.images.generate(
            {
              prompt: rewritten ?? segment.imagePrompt,
              style: styleText(currentMeta),
              width,
              height,
              index: segment.index,
              total: Math.max(total, segment.index + 1),
              mood: currentMeta.mood,
              keywords: segment.keywords ?? segment.narration.split(/\s+/).slice(0, 3).join(' '),
              ...(segment.take ? { take: segment.take } : {}),
            },
            signal,
          );
        },
        { signal },
      );
      if (result.cached) imagesReused += 1;
      else imagesGenerated += 1;
      const path = join(run.workDir, `image-${pad(segment.index)}.${result.ext}`);
      await writeFile(path, result.data);
      mark('images');
      count('images');
      return path;
    });

  const makeVoice = (segment: Segment): Promise<VoiceOut> =>
    speechQueue
      .add(
        async () => {
          mark('voice');
          const lang = meta?.lang ?? request.lang;
          const result = await deps.speech.synthesize(
            { text: segment.narration, lang, ...(voiceName ? { voice: voiceName } : {}) },
            signal,
          );
          if (!result.cached) ttsCharacters += segment.narration.length;
          voices[result.cached ? 'reused' : 'generated'] += 1;
          const path = join(run.workDir, `voice-${pad(segment.index)}.${result.ext}`);
          await writeFile(path, result.data);
          const durationSec = result.durationSec ?? (await deps.assembler.probeDurationSec(path, signal));
          const marks = result.marks?.length ? result.marks : estimateMarks(segment.narration, durationSec);
          if (result.transcribedSec) transcribedSec += result.transcribedSec;
          // A failed or missing timing source costs only precision: the words are estimated from the marks.
          const words = result.words?.length ? result.words : estimateWords(marks);
          return { path, durationSec, marks, words };
        },
        { signal },
      )
      .then((voice) => {
        mark('voice');
        count('voice');
        return voice;
      });

  /**
   * Puts a voice on the timeline so the video lands on the asked length: the voice may change speed
   * by up to ±10 % to fit the room its planned words have from where the segment starts, and the
   * pause after it (the last picture's hold, for the last) takes up what is left within bounds. A
   * voice faster or slower than measured, or a narration a little long so far, still ends on time.
   */
  const placeVoice = async (segment: Segment, raw: VoiceOut, last: boolean, startSec: number): Promise<{ voice: VoiceOut; timing: SegmentTiming }> => {
    throwIfCancelled(signal);
    const place: SegmentPlace = {
      first: segment.index === 0,
      last,
      startSec,
      targetEndSec: last ? request.durationSec : (plannedEnds.get(segment.index) ?? request.durationSec),
    };
    const tempo = tempoToFit(raw.durationSec, voiceRoom(place));
    const voice = tempo === 1 ? raw : await retimeVoice(segment, raw, tempo);
    return { voice, timing: fittedTiming(voice.durationSec, fps, place, request.durationSec) };
  };

  const retimeVoice = async (segment: Segment, voice: VoiceOut, tempo: number): Promise<VoiceOut> => {
    const path = join(run.workDir, `voice-${pad(segment.index)}-fit.wav`);
    const durationSec = await deps.assembler.retimeVoice({ path: voice.path, durationSec: voice.durationSec, factor: tempo, outPath: path }, signal);
    const at = (t: number): number => Math.round((t / tempo) * 1000) / 1000;
    return {
      path,
      durationSec,
      marks: voice.marks.map((m) => ({ ...m, startSec: at(m.startSec), endSec: at(m.endSec) })),
      words: voice.words.map((w) => ({ ...w, startSec: at(w.startSec), endSec: at(w.endSec) })),
    };
  };

  const startSegment = (segment: Segment, decision: ReviewDecision): void => {
    let resolveIsLast: (last: boolean) => void = () => {};
    const isLast = new Promise<boolean>((resolve) => (resolveIsLast = resolve));
    const raw = makeVoice(segment);
    // Each voice is placed after the one before it: where a segment starts is where that one ended.
    const startSec = work[segment.index - 1]?.endSec ?? Promise.resolve(0);
    const fitted = Promise.all([raw, isLast, startSec]).then(([v, last, start]) => placeVoice(segment, v, last, start));
    const voice = fitted.then((f) => f.voice);
    const timed = fitted.then((f) => f.timing);
    const endSec = Promise.all([startSec, timed]).then(([start, timing]) => start + timing.durationSec);
    let image: Promise<string>;
    if (decision.action === 'reuse' && work[decision.of]) {
      const of = decision.of;
      image = work[of]!.image.then((path) => {
        // The same picture: the same prompt, so a re-render of this script finds it in the cache.
        const prompt = promptsUsed.get(of);
        if (prompt !== undefined) promptsUsed.set(segment.index, prompt);
        imagesReused += 1;
        count('images');
        return path;
      });
    } else if (decision.action === 'hold') {
      const promptReady = new Promise<string | undefined>((release) => {
        held.push({ segment, reason: decision.reason, release });
      });
      image = makeImage(segment, promptReady);
    } else {
      image = makeImage(segment, Promise.resolve(undefined));
    }
    const rendered = Promise.all([image, voice, timed, isLast]).then(async ([imagePath, v, timing, last]) => {
      throwIfCancelled(signal);
      const first = segment.index === 0;
      mark('render');
      const out = await deps.assembler.renderSegment(
        {
          index: segment.index,
          imagePath,
          durationSec: timing.durationSec,
          // A shortened pause may end the segment before the last caption's hold: it leaves with the picture.
          cues: buildStyledCues(v.words, request.captions ?? DEFAULT_CAPTION_STYLE, timing.voiceOffsetSec, meta?.lang ?? request.lang).map((cue) =>
            cue.endSec > timing.durationSec ? { ...cue, endSec: timing.durationSec } : cue,
          ),
          motion: motionFor(segment.index),
          width,
          height,
          fps,
          x264Preset: profile.x264Preset,
          fadeInSec: first ? 0.5 : 0,
          fadeOutSec: last ? 1 : 0,
          lang: meta?.lang ?? request.lang,
          outPath: join(run.workDir, `segment-${pad(segment.index)}.mp4`),
          ...(run.maxBytes ? { sizeLimit: { maxBytes: run.maxBytes, durationSec: request.durationSec } } : {}),
        },
        signal,
      );
      mark('render');
      encodes[out.cached ? 'reused' : 'made'] += 1;
      count('render');
      return out;
    });
    const entry: SegmentWork = { segment, image, voice, timed, endSec, rendered, isLast, resolveIsLast };
    // Failures are collected by `fail`; the promises are awaited together at the end.
    image.catch(fail);
    raw.catch(fail);
    voice.catch(fail);
    timed.catch(fail);
    endSec.catch(fail);
    rendered.catch(fail);
    work.push(entry);
    // The previous segment now knows it is not the last one.
    work[segment.index - 1]?.resolveIsLast(false);
  };

  try {
    emit({ type: 'started', offline, tier, ...(total ? { segments: total } : {}) });
    emit({ type: 'stage', stage: 'script', status: 'running' });
    mark('script');
    const input = scriptInputFor(request, profile, run.wantBible, plan.targetWords);
    if (input.narration) total = input.narration.length;
    // The person's own words (a script, or an approved storyboard) are spoken as written: refused
    // only when they are far too long for the asked length.
    const ownWords = given ? given.segments.reduce((n, s) => n + countWords(s.narration), 0) : request.script ? countWords(request.script) : 0;
    if (ownWords > plan.maxTotalWords * 2) {
      const needSec = Math.ceil(ownWords / plan.wordsPerSecond + (request.durationSec - plan.voiceSec));
      throw badInput('script_too_long_for_duration', `The script takes about ${needSec} s to read, far more than ${request.durationSec} s: shorten it or ask for a longer video.`, {
        value: needSec,
        max: request.durationSec,
      });
    }
    const ownNarration = Boolean(given ?? input.narration);

    // A given script is streamed as written; otherwise the writer writes it.
    const writer = given ? scriptAsWriter(given) : deps.writer;
    const stream = writer.write(input, signal);
    for await (const event of stream) {
      throwIfCancelled(signal);
      if (firstError) throw firstError;
      if (event.type === 'meta') {
        meta = event.meta;
        emit({ type: 'title', title: meta.title });
        const mood = meta.mood;
        emit({ type: 'stage', stage: 'music', status: 'running' });
        mark('music');
        music = deps.music.bed({ mood, durationSec: request.durationSec * 1.5 + 10, seed: request.topic, dir: run.workDir }, signal);
        music.then(
          () => {
            mark('music');
            emit({ type: 'stage', stage: 'music', status: 'done' });
          },
          fail,
        );
      } else if (event.type === 'segment') {
        if (!meta) throw new ReelforgeError('internal', 'The script writer sent a segment before its metadata.');
        // Written narration is capped before its voice is paid for: per segment and in total. The
        // person's own script is spoken as written (its length was checked above).
        const spoken = ownNarration ? event.segment.narration : capNarration(event.segment.narration, segmentWordLimit(plan, plannedSegments, work.length, narrationWords));
        if (countWords(spoken) === 0) continue;
        narrationWords += countWords(spoken);
        const segment: Segment = { ...event.segment, narration: spoken, index: work.length };
        // The planned narration line: the target spread evenly over the planned segments. It depends on
        // nothing written later, so a storyboard rendered again (a re-roll, a new line) keeps every
        // segment before the change exactly as it was, and their encoded clips come from the cache.
        const line = (plan.targetWords * (work.length + 1)) / Math.max(work.length + 1, plannedSegments);
        plannedEnds.set(segment.index, plannedEndSec(plan, line, segment.index));
        const decision = review ? review(segment, work.map((w) => w.segment), meta) : ({ action: 'go' } as const);
        if (work.length === 0) {
          for (const stage of ['images', 'voice', 'render'] as const) emit({ type: 'stage', stage, status: 'running' });
        }
        startSegment(segment, decision);
      } else {
        llm = addUsage(llm, event.usage);
      }
    }
    mark('script');
    streamDone = true;
    total = work.length;
    if (total === 0 || !meta || !music) {
      throw new ReelforgeError('provider_unavailable', 'The script came back empty.', { retryable: true });
    }
    work.at(-1)?.resolveIsLast(true);
    emit({ type: 'stage', stage: 'script', status: 'done' });
    for (const stage of ['images', 'voice', 'render'] as const) {
      emit({ type: 'count', stage, done: counts[stage], total });
      if (counts[stage] === total) emit({ type: 'stage', stage, status: 'done' });
    }

    // The segments the local checks held go to one batched rewrite; nothing else waits for it.
    if (held.length > 0) {
      const reasons = Object.fromEntries(held.map((h) => [h.segment.index, h.reason]));
      let prompts: Record<number, string> = {};
      if (deps.fixer) {
        const fixed = await deps.fixer.rewrite(
          { segments: held.map((h) => h.segment), reasons, ...(meta.context ? { context: meta.context } : {}), lang: meta.lang },
          signal,
        );
        llm = addUsage(llm, fixed.usage);
        prompts = fixed.prompts;
      }
      for (const h of held) h.release(prompts[h.segment.index]);
    }

    // The sound track needs only the voices and the music: it is mixed while the last segments
    // still wait for their pictures or render, and the final step only joins.
    audio = mixAudio(work, music);
    audio.catch(fail);
    const rendered = await Promise.all(work.map((w) => w.rendered));
    const mixed = await audio;
    throwIfCancelled(signal);

    mark('finish');
    const video = await deps.assembler.finish(
      { segments: rendered, audio: mixed, durationSec: mixed.durationSec, outPath: run.outPath, title: meta.title },
      signal,
    );
    mark('finish');
    emit({ type: 'stage', stage: 'render', status: 'done' });

    run.onScript?.({ ...meta, segments: work.map((w) => ({ ...w.segment, imagePrompt: promptsUsed.get(w.segment.index) ?? w.segment.imagePrompt })) });
    for (const [name, span] of Object.entries(spans)) if (span) timings[name] = Math.round(span.end - span.start);
    timings.total = Math.round(now() - t0);
    const usage: RunUsage = { llm, imagesGenerated, width, height, ttsCharacters, transcribedSec };
    return {
      output: video.path,
      title: meta.title,
      durationSec: round2(video.durationSec),
      width: video.width,
      height: video.height,
      sizeBytes: video.sizeBytes,
      tier,
      segments: work.length,
      offline,
      lang: meta.lang,
      llm,
      images: { generated: imagesGenerated, reused: imagesReused },
      voices,
      encodes,
      ttsCharacters,
      ...(transcribedSec > 0 ? { transcribedSec: round2(transcribedSec) } : {}),
      captions: request.captions ?? DEFAULT_CAPTION_STYLE,
      costUsd: deps.estimateCost ? round4(deps.estimateCost(usage)) : 0,
      timingsMs: timings,
    };
  } catch (error) {
    fail(error);
    throw firstError ?? toReelforgeError(error);
  } finally {
    run.signal?.removeEventListener('abort', onOuterAbort);
    for (const w of work) w.resolveIsLast(false);
    for (const h of held) h.release(undefined);
    imageQueue.clear();
    speechQueue.clear();
    // Wait for every started task to settle, so no ffmpeg or HTTP call outlives the run.
    await Promise.allSettled([...work.flatMap((w) => [w.image, w.voice, w.timed, w.endSec, w.rendered]), ...(music ? [music] : []), ...(audio ? [audio] : [])]);
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

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

function round4(v: number): number {
  return Math.round(v * 10000) / 10000;
}
