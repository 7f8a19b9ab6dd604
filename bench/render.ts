/**
 * Render speed: the same pictures, voice and music made into a vertical short (a) by reelforge's
 * FfmpegAssembler (every segment through its render pool, then `finish`) and (b) by the common
 * recipe (per picture `scale=8000:-1,zoompan`, encode, concat, mux the audio), in the same run.
 * Wall time, times realtime, peak ffmpeg memory, file size against the chat limits, and jitter.
 *
 *   node bin/run-ts.mjs bench/render.ts [--quick]
 */
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TIER_PROFILES } from '../src/core/tiers.js';
import type { RenderedSegment } from '../src/pipeline/ports.js';
import { motionFor } from '../src/pipeline/timeline.js';
import { FfmpegAssembler } from '../src/providers/ffmpeg/assembler.js';
import { probe } from '../src/providers/ffmpeg/probe.js';
import { runFfmpeg } from '../src/providers/ffmpeg/run-ffmpeg.js';
import { makeRenderFixtures, type RenderFixtures } from './fixtures.js';
import { measureJitter, type Jitter } from './jitter.js';
import { sampleFfmpegMemory } from './proc-memory.js';
import { mb, printTable, round } from './table.js';

export const TELEGRAM_LIMIT_BYTES = 50 * 1024 * 1024;
export const DISCORD_LIMIT_BYTES = 10 * 1024 * 1024;
const FPS = 30;
const SEGMENT_SEC = 5;
const SEGMENT_FRAMES = SEGMENT_SEC * FPS;

export type Method = 'reelforge' | 'naive';

export interface RenderRun {
  method: Method;
  size: string;
  videoSec: number;
  wallSec: number;
  /** Video seconds made per wall second. */
  realtimeX: number;
  /** reelforge only: the segments and the sound track through the pool, then the join. */
  segmentsSec?: number;
  finishSec?: number;
  peakRssMb: number;
  sizeMb: number;
  /** Integrated loudness of the result (EBU R128). */
  lufs: number;
  fitsTelegram: boolean;
  fitsDiscord: boolean;
}

export interface RenderBenchResult {
  images: number;
  cores: number;
  runs: RenderRun[];
  /** naive wall time / reelforge wall time, per size. */
  speedup: Record<string, number>;
  jitter: Record<Method, Jitter>;
}

const NAIVE_ZOOM = "zoompan=z='min(zoom+0.0015,1.5)':d=150:x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)'";

async function renderReelforge(fx: RenderFixtures, dir: string, width: number, height: number): Promise<Omit<RenderRun, 'peakRssMb'>> {
  const assembler = new FfmpegAssembler({ renderConcurrency: availableParallelism() });
  const n = fx.images.length;
  const profile = TIER_PROFILES.balanced;
  const t0 = performance.now();
  // As in the pipeline: the sound track is mixed while segments render (every voice exists here).
  const audio = assembler.mixAudio({
    voice: fx.voices.map((v, i) => ({ path: v.path, offsetSec: i * SEGMENT_SEC })),
    musicPath: fx.musicPath,
    durationSec: n * SEGMENT_SEC,
    outPath: join(dir, 'reelforge.m4a'),
  });
  const segments: RenderedSegment[] = await Promise.all(
    fx.images.map((imagePath, index) =>
      assembler.renderSegment({
        index,
        imagePath,
        durationSec: SEGMENT_SEC,
        cues: fx.voices[index]!.cues,
        motion: motionFor(index),
        width,
        height,
        fps: FPS,
        x264Preset: profile.x264Preset,
        fadeInSec: index === 0 ? 0.5 : 0,
        fadeOutSec: index === n - 1 ? 1 : 0,
        lang: 'en',
        outPath: join(dir, `segment-${index}.mp4`),
      }),
    ),
  );
  const mixed = await audio;
  const t1 = performance.now();
  const video = await assembler.finish({ segments, audio: mixed, durationSec: n * SEGMENT_SEC, outPath: join(dir, 'reelforge.mp4'), title: 'bench' });
  const t2 = performance.now();
  return {
    method: 'reelforge',
    size: `${width}x${height}`,
    videoSec: round(video.durationSec, 2),
    wallSec: round((t2 - t0) / 1000, 1),
    realtimeX: round(video.durationSec / ((t2 - t0) / 1000), 2),
    segmentsSec: round((t1 - t0) / 1000, 1),
    finishSec: round((t2 - t1) / 1000, 1),
    sizeMb: mb(video.sizeBytes),
    lufs: await loudnessOf(video.path),
    fitsTelegram: video.sizeBytes <= TELEGRAM_LIMIT_BYTES,
    fitsDiscord: video.sizeBytes <= DISCORD_LIMIT_BYTES,
  };
}

/** One picture the common way: upscale to 8000 px wide, zoompan, encode (same x264 settings as ours). */
function naiveSegmentArgs(imagePath: string, width: number, height: number, outPath: string): string[] {
  return [
    '-y',
    '-framerate', String(FPS),
    '-i', imagePath,
    '-vf', `scale=8000:-1,${NAIVE_ZOOM}:s=${width}x${height}:fps=${FPS},format=yuv420p`,
    '-frames:v', String(SEGMENT_FRAMES),
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23',
    '-an', outPath,
  ];
}

/**
 * The common recipe runs as people run it: ffmpeg in its default environment, without the glibc
 * huge-page tunable reelforge's own runs add (src/providers/ffmpeg/run-ffmpeg.ts), which also
 * speeds up the recipe's 8000-pixel frames (88 s instead of 102-147 s at 1080x1920 in one run).
 */
const AS_PEOPLE_RUN_IT = { extraEnv: { GLIBC_TUNABLES: '' } };

async function renderNaive(fx: RenderFixtures, dir: string, width: number, height: number): Promise<Omit<RenderRun, 'peakRssMb'>> {
  const t0 = performance.now();
  const parts: string[] = [];
  // The recipe runs one picture after another.
  for (const [index, image] of fx.images.entries()) {
    const part = join(dir, `naive-${index}.mp4`);
    await runFfmpeg(naiveSegmentArgs(image, width, height, part), AS_PEOPLE_RUN_IT);
    parts.push(part);
  }
  const list = join(dir, 'naive.txt');
  await writeFile(list, parts.map((p) => `file '${p}'`).join('\n') + '\n');
  const joined = join(dir, 'naive-joined.mp4');
  await runFfmpeg(['-y', '-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', joined], AS_PEOPLE_RUN_IT);
  const n = fx.images.length;
  const D = n * SEGMENT_SEC;
  const inputs = fx.voices.flatMap((v) => ['-i', v.path]);
  const delays = fx.voices.map((_, i) => `[${i + 1}:a]adelay=${i * SEGMENT_SEC * 1000}:all=1[a${i}]`);
  const graph = [
    ...delays,
    `${fx.voices.map((_, i) => `[a${i}]`).join('')}amix=inputs=${n}:normalize=0,apad[voice]`,
    `[${n + 1}:a]volume=0.2[music]`,
    '[voice][music]amix=inputs=2:duration=first:normalize=0[aout]',
  ].join(';');
  const out = join(dir, 'naive.mp4');
  await runFfmpeg([
    '-y', '-i', joined, ...inputs, '-stream_loop', '-1', '-i', fx.musicPath,
    '-filter_complex', graph, '-map', '0:v', '-map', '[aout]',
    '-c:v', 'copy', '-c:a', 'aac', '-b:a', '160k', '-t', String(D), '-movflags', '+faststart', out,
  ], AS_PEOPLE_RUN_IT);
  const t1 = performance.now();
  const info = await probe(out);
  const size = (await stat(out)).size;
  return {
    method: 'naive',
    size: `${width}x${height}`,
    videoSec: round(info.durationSec, 2),
    wallSec: round((t1 - t0) / 1000, 1),
    realtimeX: round(info.durationSec / ((t1 - t0) / 1000), 2),
    sizeMb: mb(size),
    lufs: await loudnessOf(out),
    fitsTelegram: size <= TELEGRAM_LIMIT_BYTES,
    fitsDiscord: size <= DISCORD_LIMIT_BYTES,
  };
}

async function loudnessOf(path: string): Promise<number> {
  const { stderrTail } = await runFfmpeg(['-nostats', '-i', path, '-map', '0:a:0', '-af', 'ebur128=framelog=verbose', '-f', 'null', '-'], { logLevel: 'info' });
  const text = stderrTail.join('\n');
  const match = /I:\s+(-?[\d.]+) LUFS/.exec(text.slice(text.lastIndexOf('Integrated loudness:')));
  return match?.[1] !== undefined ? Number(match[1]) : Number.NaN;
}

async function measured(root: string, run: () => Promise<Omit<RenderRun, 'peakRssMb'>>): Promise<RenderRun> {
  const sampler = sampleFfmpegMemory(root);
  try {
    const result = await run();
    return { ...result, peakRssMb: mb(await sampler.stop()) };
  } finally {
    await sampler.stop();
  }
}

async function jitterOf(fx: RenderFixtures, dir: string): Promise<Record<Method, Jitter>> {
  const width = 1080;
  const height = 1920;
  const ours = await new FfmpegAssembler({ renderConcurrency: 1 }).renderSegment({
    index: 0,
    imagePath: fx.dotsPath,
    durationSec: SEGMENT_SEC,
    cues: [],
    motion: motionFor(0),
    width,
    height,
    fps: FPS,
    x264Preset: TIER_PROFILES.balanced.x264Preset,
    fadeInSec: 0,
    fadeOutSec: 0,
    lang: 'en',
    outPath: join(dir, 'dots-reelforge.mp4'),
  });
  const naivePath = join(dir, 'dots-naive.mp4');
  await runFfmpeg(naiveSegmentArgs(fx.dotsPath, width, height, naivePath), AS_PEOPLE_RUN_IT);
  return {
    reelforge: await measureJitter(ours.path, width, height, fx.dots.length),
    naive: await measureJitter(naivePath, width, height, fx.dots.length),
  };
}

export async function benchRender(options: { quick?: boolean; log?: (line: string) => void } = {}): Promise<RenderBenchResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const count = options.quick ? 4 : 12;
  const root = await mkdtemp(join(tmpdir(), 'reelforge-bench-render-'));
  try {
    const fx = await makeRenderFixtures(root, count);
    const runs: RenderRun[] = [];
    for (const [width, height] of [[1080, 1920], [720, 1280]] as const) {
      for (const method of ['reelforge', 'naive'] as const) {
        const dir = join(root, `${method}-${width}`);
        await mkdir(dir, { recursive: true });
        const run = await measured(root, () => (method === 'reelforge' ? renderReelforge(fx, dir, width, height) : renderNaive(fx, dir, width, height)));
        log(`  render ${method} ${run.size}: ${run.wallSec} s`);
        runs.push(run);
        await rm(dir, { recursive: true, force: true });
      }
    }
    const speedup: Record<string, number> = {};
    for (const size of new Set(runs.map((r) => r.size))) {
      const ours = runs.find((r) => r.size === size && r.method === 'reelforge');
      const naive = runs.find((r) => r.size === size && r.method === 'naive');
      if (ours && naive) speedup[size] = round(naive.wallSec / ours.wallSec, 2);
    }
    const jitter = await jitterOf(fx, root);
    return { images: count, cores: availableParallelism(), runs, speedup, jitter };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

export function printRender(result: RenderBenchResult, write?: (line: string) => void): void {
  printTable(
    `Render speed: ${result.images} pictures (1024x1536), ${result.images * SEGMENT_SEC} s of voice + music, ${FPS} fps, ${result.cores} cores`,
    ['method', 'size', 'wall s', 'x realtime', 'segments + audio s', 'join s', 'peak RSS MB (ffmpeg + growth of this process)', 'file MB', 'LUFS', 'Telegram 50 MB', 'Discord 10 MiB'],
    result.runs.map((r) => [
      r.method, r.size, r.wallSec, r.realtimeX, r.segmentsSec ?? '-', r.finishSec ?? '-', r.peakRssMb, r.sizeMb, r.lufs,
      r.fitsTelegram ? 'fits' : 'TOO BIG', r.fitsDiscord ? 'fits' : 'too big',
    ]),
    [
      ...Object.entries(result.speedup).map(([size, x]) => `reelforge vs naive at ${size}: ${x}x faster${size === '1080x1920' ? ` (target >= 5x: ${x >= 5 ? 'met' : 'NOT met'})` : ''}`),
      `jitter (dot tracking, distance from a smooth path, 1080x1920): reelforge rms ${round(result.jitter.reelforge.rmsPx, 3)} px / worst ${round(result.jitter.reelforge.worstPx, 3)} px; ` +
        `naive rms ${round(result.jitter.naive.rmsPx, 3)} px / worst ${round(result.jitter.naive.worstPx, 3)} px (${result.jitter.reelforge.dots} dots, ${result.jitter.reelforge.frames} frames)`,
    ],
    write,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printRender(await benchRender({ quick: process.argv.includes('--quick') }));
}
