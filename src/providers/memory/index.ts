/**
 * In-memory implementations of every pipeline port: instant, deterministic, no programs or network.
 * Used by orchestration tests and the critical-path benchmark, where each can be given a latency.
 */
import { copyFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReelforgeError, throwIfCancelled, tooLarge } from '../../core/errors.js';
import { emptyUsage } from '../../core/receipt.js';
import { sleep } from '../../core/sleep.js';
import type { Segment } from '../../pipeline/model.js';
import type {
  FinishedVideo,
  Thumbnail,
  FinishInput,
  ImageProvider,
  ImageRequest,
  ImageResult,
  MusicBed,
  MusicProvider,
  RenderedSegment,
  ScriptEvent,
  ScriptInput,
  ScriptWriter,
  SegmentRenderInput,
  SpeechProvider,
  SpeechRequest,
  SpeechResult,
  VideoAssembler,
  AudioMixInput,
  MixedAudio,
  RetimeInput,
} from '../../pipeline/ports.js';
import { WORDS_PER_SECOND } from '../../pipeline/segmenting.js';
import { MIN_VIDEO_BPS } from '../ffmpeg/bitrate.js';

export interface CallLog {
  at: number;
  kind: string;
  detail: string;
}

/** A shared clock and call log so tests can see what overlapped with what. */
export class Recorder {
  readonly calls: CallLog[] = [];
  private readonly t0 = performance.now();
  record(kind: string, detail = ''): void {
    this.calls.push({ at: performance.now() - this.t0, kind, detail });
  }
  first(kind: string): number | undefined {
    return this.calls.find((c) => c.kind === kind)?.at;
  }
  count(kind: string): number {
    return this.calls.filter((c) => c.kind === kind).length;
  }
}

export interface MemoryScriptOptions {
  segments?: Array<Partial<Segment>>;
  /** Delay before each segment, as if streamed. */
  perSegmentMs?: number;
  recorder?: Recorder;
}

export class MemoryScriptWriter implements ScriptWriter {
  readonly offline = true;
  constructor(private readonly options: MemoryScriptOptions = {}) {}

  async *write(input: ScriptInput, signal?: AbortSignal): AsyncIterable<ScriptEvent> {
    this.options.recorder?.record('script:start');
    yield { type: 'meta', meta: { title: input.topic, lang: input.lang, mood: 'calm', draft: true } };
    const count = input.narration?.length ?? this.options.segments?.length ?? input.targetSegments;
    const wordsEach = Math.max(3, Math.round((input.durationSec * WORDS_PER_SECOND) / count));
    for (let index = 0; index < count; index++) {
      await sleep(this.options.perSegmentMs ?? 0, signal);
      const given = this.options.segments?.[index] ?? {};
      const narration = input.narration?.[index] ?? given.narration ?? `Part ${index + 1} ${'word '.repeat(wordsEach - 2).trim()}.`;
      this.options.recorder?.record('script:segment', String(index));
      yield {
        type: 'segment',
        segment: {
          index,
          narration,
          imagePrompt: given.imagePrompt ?? `Picture ${index + 1} of ${input.topic}`,
          people: given.people ?? [],
          keywords: given.keywords ?? `part ${index + 1}`,
        },
      };
    }
    this.options.recorder?.record('script:end');
    yield { type: 'usage', usage: emptyUsage() };
  }
}

export class MemoryImages implements ImageProvider {
  readonly offline = true;
  readonly model = 'memory-images';
  readonly requests: ImageRequest[] = [];
  constructor(private readonly options: { latencyMs?: number; recorder?: Recorder; failTimes?: number } = {}) {}

  async generate(request: ImageRequest, signal?: AbortSignal): Promise<ImageResult> {
    this.requests.push(request);
    this.options.recorder?.record('image:start', String(request.index));
    await sleep(this.options.latencyMs ?? 0, signal);
    if ((this.options.failTimes ?? 0) > 0) {
      this.options.failTimes = (this.options.failTimes ?? 0) - 1;
      throw new Error('image provider failed');
    }
    this.options.recorder?.record('image:end', String(request.index));
    return { data: Buffer.from(`image ${request.index}: ${request.prompt}`), ext: 'png' };
  }
}

export class MemorySpeech implements SpeechProvider {
  readonly offline = true;
  readonly model = 'memory-speech';
  constructor(private readonly options: { latencyMs?: number; recorder?: Recorder } = {}) {}

  async synthesize(request: SpeechRequest, signal?: AbortSignal): Promise<SpeechResult> {
    this.options.recorder?.record('speech:start', request.text.slice(0, 12));
    await sleep(this.options.latencyMs ?? 0, signal);
    const words = request.text.split(/\s+/).filter(Boolean).length;
    return { data: Buffer.from(request.text), ext: 'wav', durationSec: words / WORDS_PER_SECOND };
  }
}

export class MemoryMusic implements MusicProvider {
  async bed(request: { mood: string; durationSec: number; dir: string }, signal?: AbortSignal): Promise<MusicBed> {
    throwIfCancelled(signal);
    const path = join(request.dir, 'music.wav');
    await writeFile(path, `music ${request.mood} ${request.durationSec}`);
    return { path, source: 'generated', title: `memory ${request.mood}` };
  }
}

/** Writes a JSON description instead of a video: enough to check what would be rendered. */
export class MemoryAssembler implements VideoAssembler {
  readonly rendered: SegmentRenderInput[] = [];
  readonly retimed: RetimeInput[] = [];
  mixed: AudioMixInput | undefined;
  finished: FinishInput | undefined;
  constructor(private readonly options: { renderMs?: number; mixMs?: number; finishMs?: number; recorder?: Recorder } = {}) {}

  async renderSegment(input: SegmentRenderInput, signal?: AbortSignal): Promise<RenderedSegment> {
    this.options.recorder?.record('render:start', String(input.index));
    await sleep(this.options.renderMs ?? 0, signal);
    this.rendered.push(input);
    await writeFile(input.outPath, JSON.stringify(input));
    return { index: input.index, path: input.outPath, durationSec: input.durationSec };
  }

  async mixAudio(input: AudioMixInput, signal?: AbortSignal): Promise<MixedAudio> {
    this.options.recorder?.record('mix:start');
    await sleep(this.options.mixMs ?? 0, signal);
    this.mixed = input;
    await writeFile(input.outPath, JSON.stringify(input));
    return { path: input.outPath, durationSec: input.durationSec };
  }

  async finish(input: FinishInput, signal?: AbortSignal): Promise<FinishedVideo> {
    this.options.recorder?.record('finish:start');
    await sleep(this.options.finishMs ?? 0, signal);
    this.finished = input;
    const first = this.rendered[0];
    const video: MemoryVideo = { durationSec: input.durationSec, width: first?.width ?? 0, height: first?.height ?? 0 };
    const body = JSON.stringify({ ...input, ...video });
    await writeFile(input.outPath, body);
    return { path: input.outPath, ...video, sizeBytes: Buffer.byteLength(body) };
  }

  probeDurationSec(): Promise<number> {
    return Promise.resolve(1);
  }

  /** The clip copied as it is; its length is what the speed change would make it. */
  async retimeVoice(input: RetimeInput, signal?: AbortSignal): Promise<number> {
    throwIfCancelled(signal);
    this.retimed.push(input);
    await copyFile(input.path, input.outPath);
    return input.durationSec / input.factor;
  }

  /** A text file standing for the JPEG, sized to fit 320x320 like the real one. */
  async thumbnail(videoPath: string, outPath: string, atSec: number, signal?: AbortSignal): Promise<Thumbnail> {
    throwIfCancelled(signal);
    const video = await readMemoryVideo(videoPath);
    const scale = Math.min(320 / video.width, 320 / video.height);
    const thumb = { path: outPath, width: Math.round(video.width * scale), height: Math.round(video.height * scale) };
    await writeFile(outPath, JSON.stringify({ thumbnailOf: videoPath, atSec, ...thumb }));
    return thumb;
  }

  /**
   * A copy when the video fits; else a shorter description of it (a memory video can always be
   * made small), unless even the lowest bitrate worth sending would not fit: then `too_large`.
   */
  async fitToSize(inPath: string, outPath: string, maxBytes: number, signal?: AbortSignal): Promise<FinishedVideo> {
    throwIfCancelled(signal);
    const video = await readMemoryVideo(inPath);
    const { size } = await stat(inPath);
    if (size <= maxBytes) {
      if (inPath !== outPath) await copyFile(inPath, outPath);
      return { path: outPath, ...video, sizeBytes: size };
    }
    if (maxBytes * 8 < MIN_VIDEO_BPS * (video.durationSec + 1)) throw tooLarge(size, maxBytes, 'The video is too long to fit the upload limit.');
    const body = JSON.stringify({ fittedFrom: inPath, maxBytes, ...video });
    await writeFile(outPath, body);
    return { path: outPath, ...video, sizeBytes: Buffer.byteLength(body) };
  }
}

/** What a memory "video" file says about itself: the JSON `finish` wrote, maybe with padding after it. */
interface MemoryVideo {
  durationSec: number;
  width: number;
  height: number;
}

async function readMemoryVideo(path: string): Promise<MemoryVideo> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as Partial<MemoryVideo>;
    if (typeof value.durationSec === 'number' && typeof value.width === 'number' && typeof value.height === 'number' && value.width > 0 && value.height > 0) {
      return { durationSec: value.durationSec, width: value.width, height: value.height };
    }
  } catch {
    // not one of ours
  }
  throw new ReelforgeError('render_failed', 'Could not read the video.');
}
