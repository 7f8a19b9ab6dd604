/**
 * The pipeline: topic in, MP4 out. Platform-neutral; every capability comes through a port.
 *
 * Everything that can overlap does: the script streams in segment by segment; each segment's
 * picture and voice start the moment it arrives (each provider bounds its own calls); each segment
 * is encoded as soon as its picture and voice exist; the music is made while all that runs; the
 * final step only joins the encoded segments and mixes the audio.
 *
 * The parts: `RunControl` (one signal, progress, the stage clock, the tasks to wait for),
 * `SegmentWorks` (per-segment picture, voice, placement and render), `HeldSegments` (the batched
 * prompt rewrite), `readScript` (the stream, capped and planned) and `receiptFor`; `runPipeline`
 * only puts them in order.
 */
import { DEFAULT_CAPTION_STYLE } from '../core/caption-style.js';
import { badInput, ReelforgeError, toReelforgeError } from '../core/errors.js';
import type { ProgressListener } from '../core/progress.js';
import { addUsage, emptyUsage, type LlmUsage, type Receipt } from '../core/receipt.js';
import { aspectSize, type VideoRequest } from '../core/request.js';
import { TIER_PROFILES, tierForDuration, type Tier, type TierProfile } from '../core/tiers.js';
import type { SegmentDecision } from './dedup.js';
import { HeldSegments } from './held-segments.js';
import type { Script, ScriptMeta, Segment } from './model.js';
import { capNarration, plannedEndSec, planNarration, segmentWordLimit, type NarrationPlan } from './narration.js';
import type { FinishedVideo, ImageProvider, MusicBed, MusicProvider, PromptFixer, ScriptWriter, SpeechProvider, VideoAssembler } from './ports.js';
import { RunControl } from './run-control.js';
import { SegmentWorks } from './segment-work.js';
import { countWords, targetSegmentCount } from './segmenting.js';
import { scriptAsWriter, scriptInputFor } from './storyboard.js';

export interface RunUsage {
  llm: LlmUsage;
  imagesGenerated: number;
  width: number;
  height: number;
  ttsCharacters: number;
  /** Seconds of voice sent to a transcription endpoint for word timings. */
  transcribedSec?: number;
}

/** Dedup and multi-subject checks: local, no LLM; only 'hold' segments go to the batched fixer. */
export type SegmentReview = (segment: Segment, earlier: readonly Segment[], context: ScriptMeta) => SegmentDecision;

export interface PipelineDeps {
  writer: ScriptWriter;
  /** Each provider bounds its own calls (process-wide, providers/limit.ts); the pipeline adds no second bound. */
  images: ImageProvider;
  speech: SpeechProvider;
  music: MusicProvider;
  assembler: VideoAssembler;
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

/** What the request decides before anything runs. */
interface RunPlan {
  tier: Tier;
  profile: TierProfile;
  offline: boolean;
  /** Segments the script is planned to have. */
  plannedSegments: number;
  /** Segments announced at the start (0 when the person's own script is still to be split). */
  expected: number;
  /** Words for the asked length at the voice's measured rate, and the caps. */
  narration: NarrationPlan;
}

function planRun(run: PipelineRun, deps: PipelineDeps): RunPlan {
  const { request, script: given } = run;
  const tier = request.tier ?? tierForDuration(request.durationSec);
  // The same for a script written now and for that script given back (a storyboard), so both place their voices alike.
  const plannedSegments = targetSegmentCount(request.durationSec);
  return {
    tier,
    profile: TIER_PROFILES[tier],
    offline: (given ? given.draft : deps.writer.offline) || deps.images.offline || deps.speech.offline,
    plannedSegments,
    expected: given ? given.segments.length : request.script ? 0 : plannedSegments,
    narration: planNarration(request.durationSec, plannedSegments, deps.speech.wordsPerSecond?.(request.lang)),
  };
}

export async function runPipeline(run: PipelineRun, deps: PipelineDeps): Promise<Receipt> {
  const control = new RunControl(run.signal, run.onProgress, deps.now ?? (() => performance.now()));
  const held = new HeldSegments();
  let works: SegmentWorks | undefined;
  try {
    const plan = planRun(run, deps);
    const { request } = run;
    control.emit({ type: 'started', offline: plan.offline, tier: plan.tier, ...(plan.expected ? { segments: plan.expected } : {}) });
    const voice = run.voice ?? deps.voice;
    works = new SegmentWorks(
      {
        profile: plan.profile,
        ...aspectSize(request.aspect),
        lang: request.lang,
        targetSec: request.durationSec,
        captions: request.captions ?? DEFAULT_CAPTION_STYLE,
        workDir: run.workDir,
        ...(voice ? { voice } : {}),
        ...(run.maxBytes ? { sizeLimit: { maxBytes: run.maxBytes, durationSec: request.durationSec } } : {}),
      },
      deps,
      control,
      held,
      plan.expected,
    );
    const script = await readScript(run, deps, plan, control, works);
    // The segments the local checks held go to one batched rewrite; nothing else waits for it.
    const fixUsage = await held.fix(deps.fixer, script.meta, control.signal);
    const llm = fixUsage ? addUsage(script.llm, fixUsage) : script.llm;
    // The sound track needs only the voices and the music: it is mixed while the last segments
    // still wait for their pictures or render, and the final step only joins.
    const audio = control.track(works.mixAudio(script.music));
    const rendered = await works.rendered();
    const mixed = await audio;
    control.check();
    control.mark('finish');
    const video = await deps.assembler.finish(
      { segments: rendered, audio: mixed, durationSec: mixed.durationSec, outPath: run.outPath, title: script.meta.title },
      control.signal,
    );
    control.mark('finish');
    control.emit({ type: 'stage', stage: 'render', status: 'done' });
    run.onScript?.(works.scriptAsRendered(script.meta));
    return receiptFor(video, { request, plan, meta: script.meta, llm, works, timingsMs: control.timings(), deps });
  } catch (error) {
    control.fail(error);
    throw control.error ?? toReelforgeError(error);
  } finally {
    works?.releaseAll();
    held.releaseAll();
    await control.close();
  }
}

interface ScriptRead {
  meta: ScriptMeta;
  llm: LlmUsage;
  music: Promise<MusicBed>;
}

/**
 * Streams the script (the writer's, or a given one as written): its metadata starts the music; each
 * segment, its narration capped to the plan and checked locally, starts its own work at once; the
 * usage adds up. Ends when the script is complete.
 */
async function readScript(run: PipelineRun, deps: PipelineDeps, plan: RunPlan, control: RunControl, works: SegmentWorks): Promise<ScriptRead> {
  const { request, script: given } = run;
  const { narration } = plan;
  control.emit({ type: 'stage', stage: 'script', status: 'running' });
  control.mark('script');
  const input = scriptInputFor(request, plan.profile, run.wantBible, narration.targetWords);
  if (input.narration) works.total = input.narration.length;
  // The person's own words (a script, or an approved storyboard) are spoken as written: refused only
  // when they are far too long for the asked length.
  const ownWords = given ? given.segments.reduce((n, s) => n + countWords(s.narration), 0) : request.script ? countWords(request.script) : 0;
  if (ownWords > narration.maxTotalWords * 2) {
    const needSec = Math.ceil(ownWords / narration.wordsPerSecond + (request.durationSec - narration.voiceSec));
    throw badInput('script_too_long_for_duration', `The script takes about ${needSec} s to read, far more than ${request.durationSec} s: shorten it or ask for a longer video.`, {
      value: needSec,
      max: request.durationSec,
    });
  }
  const own = Boolean(given ?? input.narration);
  const review = given ? undefined : deps.reviewFor?.(plan.profile);
  let meta: ScriptMeta | undefined;
  let music: Promise<MusicBed> | undefined;
  let llm = emptyUsage();
  let wordsSoFar = 0;
  const writer = given ? scriptAsWriter(given) : deps.writer;
  for await (const event of writer.write(input, control.signal)) {
    control.check();
    if (event.type === 'meta') {
      meta = works.meta = event.meta;
      control.emit({ type: 'title', title: meta.title });
      music = startMusic(run, deps, meta, control);
    } else if (event.type === 'segment') {
      if (!meta) throw new ReelforgeError('internal', 'The script writer sent a segment before its metadata.');
      const index = works.length;
      // Written narration is capped before its voice is paid for: per segment and in total. The
      // person's own script is spoken as written (its length was checked above).
      const spoken = own ? event.segment.narration : capNarration(event.segment.narration, segmentWordLimit(narration, plan.plannedSegments, index, wordsSoFar));
      if (countWords(spoken) === 0) continue;
      wordsSoFar += countWords(spoken);
      const segment: Segment = { ...event.segment, narration: spoken, index };
      // The planned narration line: the target spread evenly over the planned segments. It depends on
      // nothing written later, so a storyboard rendered again (a re-roll, a new line) keeps every
      // segment before the change exactly as it was, and their encoded clips come from the cache.
      const line = (narration.targetWords * (index + 1)) / Math.max(index + 1, plan.plannedSegments);
      if (index === 0) for (const stage of ['images', 'voice', 'render'] as const) control.emit({ type: 'stage', stage, status: 'running' });
      works.start(segment, review ? review(segment, works.segments, meta) : { action: 'go' }, plannedEndSec(narration, line, index));
    } else {
      llm = addUsage(llm, event.usage);
    }
  }
  control.mark('script');
  works.streamEnded();
  if (works.length === 0 || !meta || !music) {
    throw new ReelforgeError('provider_unavailable', 'The script came back empty.', { retryable: true });
  }
  control.emit({ type: 'stage', stage: 'script', status: 'done' });
  works.announceCounts();
  return { meta, llm, music };
}

/** The music bed for the script's mood, made while everything else runs. */
function startMusic(run: PipelineRun, deps: PipelineDeps, meta: ScriptMeta, control: RunControl): Promise<MusicBed> {
  const { request } = run;
  control.emit({ type: 'stage', stage: 'music', status: 'running' });
  control.mark('music');
  const music = control.track(deps.music.bed({ mood: meta.mood, durationSec: request.durationSec * 1.5 + 10, seed: request.topic, dir: run.workDir }, control.signal));
  void music.then(
    () => {
      control.mark('music');
      control.emit({ type: 'stage', stage: 'music', status: 'done' });
    },
    () => undefined, // tracked: the run fails with it
  );
  return music;
}

interface ReceiptInput {
  request: VideoRequest;
  plan: RunPlan;
  meta: ScriptMeta;
  llm: LlmUsage;
  works: SegmentWorks;
  timingsMs: Record<string, number>;
  deps: PipelineDeps;
}

/** The receipt: what was made, what it took and what it cost. */
function receiptFor(video: FinishedVideo, { request, plan, meta, llm, works, timingsMs, deps }: ReceiptInput): Receipt {
  const { stats } = works;
  const usage: RunUsage = {
    llm,
    imagesGenerated: stats.imagesGenerated,
    width: video.width,
    height: video.height,
    ttsCharacters: stats.ttsCharacters,
    transcribedSec: stats.transcribedSec,
  };
  return {
    output: video.path,
    title: meta.title,
    durationSec: round2(video.durationSec),
    width: video.width,
    height: video.height,
    sizeBytes: video.sizeBytes,
    tier: plan.tier,
    segments: works.length,
    offline: plan.offline,
    lang: meta.lang,
    llm,
    images: { generated: stats.imagesGenerated, reused: stats.imagesReused },
    voices: stats.voices,
    encodes: stats.encodes,
    ttsCharacters: stats.ttsCharacters,
    ...(stats.transcribedSec > 0 ? { transcribedSec: round2(stats.transcribedSec) } : {}),
    captions: request.captions ?? DEFAULT_CAPTION_STYLE,
    costUsd: deps.estimateCost ? round4(deps.estimateCost(usage)) : 0,
    timingsMs,
  };
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

function round4(v: number): number {
  return Math.round(v * 10000) / 10000;
}
