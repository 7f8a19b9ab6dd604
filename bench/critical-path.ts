/**
 * Critical path: the real pipeline (runPipeline, the OpenAI providers through the real SDK, the real
 * FfmpegAssembler at 1080x1920) against the fake OpenAI server with set latencies, for a 60 s
 * balanced video. Its wall time is set beside the lower bound those latencies allow: the moment
 * the last segment's picture and voice could exist (its arrival in the LLM stream, then the image
 * and speech latencies with their concurrency, simulated) plus that segment's render, or the
 * moment every voice could exist plus the sound-track mix, whichever is later, plus the final
 * join, all as measured. Every provider call and render is timed, so the report shows where the
 * rest went.
 *
 *   node bin/run-ts.mjs bench/critical-path.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../src/config.js';
import type { VideoRequest } from '../src/core/request.js';
import { createLogger } from '../src/log.js';
import { createPipelineDeps } from '../src/main.js';
import { runPipeline, type PipelineDeps } from '../src/pipeline/run-pipeline.js';
import type { ImageProvider, ScriptWriter, SpeechProvider, VideoAssembler } from '../src/pipeline/ports.js';
import { FfmpegAssembler } from '../src/providers/ffmpeg/assembler.js';
import { FakeOpenAiServer } from '../test/fakes/openai-server.js';
import { printTable, round } from './table.js';

export interface Latencies {
  tokensPerSec: number;
  imageSec: number;
  imageConcurrency: number;
  speechSec: number;
  speechConcurrency: number;
}

export const DEFAULT_LATENCIES: Latencies = { tokensPerSec: 60, imageSec: 6, imageConcurrency: 4, speechSec: 1.5, speechConcurrency: 4 };

interface Span {
  start: number;
  end: number;
}

export interface CriticalPathResult {
  durationSec: number;
  segments: number;
  latencies: Latencies;
  cores: number;
  /** Pipeline wall time, s. */
  totalSec: number;
  /** Lower bound the latencies allow, s. */
  boundSec: number;
  ratio: number;
  /** When the LLM stream delivered the last segment / ended. */
  lastSegmentAtSec: number;
  streamEndSec: number;
  /** The earliest the last picture + voice could exist (simulated), and when they did. */
  lastAssetBoundSec: number;
  lastAssetActualSec: number;
  /** The segment whose assets came last: its render, measured. */
  lastRenderSec: number;
  /** When the last segment render ended and the join began. */
  lastRenderEndSec: number;
  finishStartSec: number;
  finishSec: number;
  /** The sound track: when it started and ended, and its run time. */
  mixStartSec: number;
  mixEndSec: number;
  mixSec: number;
  /** Mean and largest wait of a segment's render after its picture and voice existed. */
  renderWaitMeanSec: number;
  renderWaitMaxSec: number;
  /** Sum of the segment renders' run times (two run at once on two cores). */
  renderBusySec: number;
  videoSec: number;
  sizeMb: number;
}

/** Earliest end times of jobs arriving at `arrivals`, each taking `serviceSec`, `slots` at a time, in order. */
export function simulateSlots(arrivals: number[], serviceSec: number, slots: number): number[] {
  const free = Array.from({ length: Math.max(1, slots) }, () => 0);
  return arrivals.map((at) => {
    free.sort((a, b) => a - b);
    const start = Math.max(at, free[0]!);
    free[0] = start + serviceSec;
    return start + serviceSec;
  });
}

export async function benchCriticalPath(options: { durationSec?: number; latencies?: Latencies } = {}): Promise<CriticalPathResult> {
  const latencies = options.latencies ?? DEFAULT_LATENCIES;
  const durationSec = options.durationSec ?? 60;
  const fake = await FakeOpenAiServer.start({
    latency: { tokensPerSec: latencies.tokensPerSec, imageSec: latencies.imageSec, speechSec: latencies.speechSec },
    // No near-duplicate or two-person segments: the bound below has no prompt-fix call in it.
    quirks: 'none',
  });
  const dataDir = await mkdtemp(join(tmpdir(), 'reelforge-bench-critical-'));
  try {
    const config = loadConfig({
      OPENAI_API_KEY: 'bench',
      OPENAI_BASE_URL: fake.baseURL,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      IMAGE_CONCURRENCY: String(latencies.imageConcurrency),
      TTS_CONCURRENCY: String(latencies.speechConcurrency),
    });
    const ran = new Map<number, number>();
    let mixRan = 0;
    let finishRan = 0;
    const waited = new Map<number, number>();
    const ffmpeg = new FfmpegAssembler({
      renderConcurrency: config.concurrency.render,
      onTiming: (t) => {
        if (t.kind === 'audio') mixRan = t.ranMs / 1000;
        if (t.kind === 'finish') finishRan = t.ranMs / 1000;
        if (t.kind !== 'segment') return;
        ran.set(t.index, t.ranMs / 1000);
        waited.set(t.index, t.waitedMs / 1000);
      },
    });
    const base = createPipelineDeps(config, createLogger('silent'), { assembler: ffmpeg });
    const t0 = performance.now();
    const at = (): number => (performance.now() - t0) / 1000;
    const arrivals: number[] = [];
    let streamEnd = 0;
    const images = new Map<number, Span>();
    const voices = new Map<string, Span>();
    const renders = new Map<number, Span>();
    let finish: Span = { start: 0, end: 0 };
    let mix: Span = { start: 0, end: 0 };

    const writer: ScriptWriter = {
      offline: base.writer.offline,
      async *write(input, signal) {
        for await (const event of base.writer.write(input, signal)) {
          if (event.type === 'segment') arrivals.push(at());
          yield event;
        }
        streamEnd = at();
      },
    };
    const imageProvider: ImageProvider = {
      offline: base.images.offline,
      model: base.images.model,
      async generate(request, signal) {
        const span = { start: at(), end: 0 };
        const result = await base.images.generate(request, signal);
        span.end = at();
        images.set(request.index, span);
        return result;
      },
    };
    const speech: SpeechProvider = {
      offline: base.speech.offline,
      model: base.speech.model,
      async synthesize(request, signal) {
        const span = { start: at(), end: 0 };
        const result = await base.speech.synthesize(request, signal);
        span.end = at();
        voices.set(request.text, span);
        return result;
      },
    };
    const assembler: VideoAssembler = {
      async renderSegment(input, signal) {
        const span = { start: at(), end: 0 };
        const result = await base.assembler.renderSegment(input, signal);
        span.end = at();
        renders.set(input.index, span);
        return result;
      },
      async mixAudio(input, signal) {
        const span = { start: at(), end: 0 };
        const result = await base.assembler.mixAudio(input, signal);
        span.end = at();
        mix = span;
        return result;
      },
      async finish(input, signal) {
        const span = { start: at(), end: 0 };
        const result = await base.assembler.finish(input, signal);
        span.end = at();
        finish = span;
        return result;
      },
      probeDurationSec: (path, signal) => base.assembler.probeDurationSec(path, signal),
      thumbnail: (videoPath, outPath, atSec, signal) => base.assembler.thumbnail(videoPath, outPath, atSec, signal),
      fitToSize: (inPath, outPath, maxBytes, signal) => base.assembler.fitToSize(inPath, outPath, maxBytes, signal),
      retimeVoice: (input, signal) => base.assembler.retimeVoice(input, signal),
    };
    const deps: PipelineDeps = { ...base, writer, images: imageProvider, speech, assembler };
    const request: VideoRequest = { topic: 'The fall of Constantinople', durationSec, lang: 'en', aspect: '9:16' };
    const receipt = await runPipeline({ request, workDir: dataDir, outPath: join(dataDir, 'critical.mp4') }, deps);
    const totalSec = at();

    // Each segment's voice call is keyed by its text; order them by start, as the pipeline made them.
    const voiceEnds = [...voices.values()].sort((a, b) => a.start - b.start).map((s) => s.end);
    const n = arrivals.length;
    const imageBound = simulateSlots(arrivals, latencies.imageSec, latencies.imageConcurrency);
    const voiceBound = simulateSlots(arrivals, latencies.speechSec, latencies.speechConcurrency);
    let last = 0;
    for (let i = 0; i < n; i++) if (Math.max(imageBound[i]!, voiceBound[i]!) >= Math.max(imageBound[last]!, voiceBound[last]!)) last = i;
    const lastAssetBound = Math.max(imageBound[last]!, voiceBound[last]!);
    // Run times without the wait for a pool slot: the bound assumes a free CPU for the last segment.
    const lastRenderSec = ran.get(last) ?? 0;
    const finishSec = finishRan || finish.end - finish.start;
    const mixSec = mixRan || mix.end - mix.start;
    // The sound track can start once every voice exists and the stream has ended (the last
    // segment's length depends on its being last).
    const audioReadyBound = Math.max(streamEnd, ...voiceBound);
    const boundSec = Math.max(lastAssetBound + lastRenderSec, audioReadyBound + mixSec) + finishSec;

    const ready = Array.from({ length: n }, (_, i) => Math.max(images.get(i)?.end ?? 0, voiceEnds[i] ?? 0));
    // From picture + voice existing to ffmpeg starting: the pipeline's own lag plus the pool queue.
    const waits = Array.from({ length: n }, (_, i) => Math.max(0, (renders.get(i)?.start ?? 0) + (waited.get(i) ?? 0) - ready[i]!));
    const runs = Array.from({ length: n }, (_, i) => ran.get(i) ?? 0);
    const renderEnds = [...renders.values()].map((s) => s.end);
    return {
      durationSec,
      segments: n,
      latencies,
      cores: availableParallelism(),
      totalSec: round(totalSec, 1),
      boundSec: round(boundSec, 1),
      ratio: round(totalSec / boundSec, 3),
      lastSegmentAtSec: round(arrivals.at(-1) ?? 0, 1),
      streamEndSec: round(streamEnd, 1),
      lastAssetBoundSec: round(lastAssetBound, 1),
      lastAssetActualSec: round(Math.max(...ready), 1),
      lastRenderSec: round(lastRenderSec, 1),
      lastRenderEndSec: round(Math.max(0, ...renderEnds), 1),
      finishStartSec: round(finish.start, 1),
      finishSec: round(finishSec, 1),
      mixStartSec: round(mix.start, 1),
      mixEndSec: round(mix.end, 1),
      mixSec: round(mixSec, 1),
      renderWaitMeanSec: round(waits.reduce((a, b) => a + b, 0) / Math.max(1, n), 2),
      renderWaitMaxSec: round(Math.max(0, ...waits), 2),
      renderBusySec: round(runs.reduce((a, b) => a + b, 0), 1),
      videoSec: receipt.durationSec,
      sizeMb: round(receipt.sizeBytes / 1e6, 1),
    };
  } finally {
    await fake.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export function printCriticalPath(r: CriticalPathResult, write?: (line: string) => void): void {
  const l = r.latencies;
  printTable(
    `Critical path: ${r.durationSec} s balanced video, real pipeline + FfmpegAssembler (1080x1920), fake OpenAI at ${l.tokensPerSec} tokens/s, ` +
      `${l.imageSec} s/image x${l.imageConcurrency}, ${l.speechSec} s/speech x${l.speechConcurrency}, ${r.cores} cores`,
    ['measure', 'seconds'],
    [
      ['LLM stream: last segment arrived', r.lastSegmentAtSec],
      ['LLM stream ended', r.streamEndSec],
      ['last picture + voice could exist (bound)', r.lastAssetBoundSec],
      ['last picture + voice did exist', r.lastAssetActualSec],
      ["that segment's render, run time (measured)", r.lastRenderSec],
      ['sound track (all voices + music), started / ended / run time', `${r.mixStartSec} / ${r.mixEndSec} / ${r.mixSec}`],
      ['final join (video and sound copied), run time (measured)', r.finishSec],
      ['lower bound', r.boundSec],
      ['pipeline wall time', r.totalSec],
      ['render wait after assets (incl. pool queue), mean / max', `${r.renderWaitMeanSec} / ${r.renderWaitMaxSec}`],
      ['last segment render ended', r.lastRenderEndSec],
      ['segment render run times, summed', r.renderBusySec],
    ],
    [`${r.segments} segments, ${r.videoSec} s video, ${r.sizeMb} MB. Wall / bound = ${r.ratio} (target <= 1.15: ${r.ratio <= 1.15 ? 'met' : 'NOT met'})`],
    write,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printCriticalPath(await benchCriticalPath());
}
