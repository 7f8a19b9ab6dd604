import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FinishedVideo, RenderedSegment, SegmentRenderInput } from '../../../src/pipeline/ports.js';
import { FfmpegAssembler } from '../../../src/providers/ffmpeg/assembler.js';
import { videoAssemblerUploadContract } from '../../contracts/video-assembler.js';
import { probe } from '../../../src/providers/ffmpeg/probe.js';
import {
  brightShare,
  makeDarkTexture,
  makeImage,
  makeTone,
  meanAbsDiff,
  meanLuma,
  readGrayFrames,
  readSamples,
  rmsDb,
  topLevelBoxes,
} from '../../helpers/media.js';
import { caught } from '../../helpers/errors.js';
import { waitFor } from '../../helpers/wait-for.js';
import { errorText } from '../../../src/bots/shared/i18n.js';

const W = 270;
const H = 480;
const FPS = 30;

let root: string;
let dir: string;
const assembler = new FfmpegAssembler({ renderConcurrency: 2 });

function segment(overrides: Partial<SegmentRenderInput> & Pick<SegmentRenderInput, 'index' | 'imagePath' | 'outPath'>): SegmentRenderInput {
  return {
    durationSec: 2,
    cues: [],
    motion: { zoomFrom: 1, zoomTo: 1.15, panFrom: { x: 0, y: 0 }, panTo: { x: 0.5, y: -0.3 } },
    width: W,
    height: H,
    fps: FPS,
    x264Preset: 'ultrafast',
    fadeInSec: 0,
    fadeOutSec: 0,
    lang: 'en',
    ...overrides,
  };
}

async function ffmpegProcessesWriting(path: string): Promise<number> {
  let count = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.startsWith('ffmpeg') && cmdline.includes(path)) count++;
    } catch {
      // gone while we looked
    }
  }
  return count;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'reelforge-assembler-'));
  // Quotes, commas, brackets, a colon and a percent sign: every level of ffmpeg's escaping.
  dir = join(root, "clips, [take 1]; it's 50%: done");
  await mkdir(dir, { recursive: true });
  await Promise.all([
    makeDarkTexture(join(dir, 'dark %d.png')),
    makeImage(join(dir, 'mandel.png'), 'mandelbrot=s=800x600'),
    makeImage(join(dir, 'bars.png'), 'testsrc2=s=600x900'),
    makeTone(join(dir, 'voice-a.wav'), { freq: 1000, durationSec: 1.2 }),
    makeTone(join(dir, 'voice-b.wav'), { freq: 1000, durationSec: 1.0 }),
    // Shorter than the video: finish must loop it.
    makeTone(join(dir, 'music.wav'), { freq: 200, durationSec: 2.5, sampleRate: 44_100 }),
  ]);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('FfmpegAssembler: three segments joined into a finished short', () => {
  let rendered: RenderedSegment[];
  let video: FinishedVideo;
  let frames: Buffer[];

  beforeAll(async () => {
    rendered = await Promise.all([
      assembler.renderSegment(
        segment({
          index: 0,
          imagePath: join(dir, 'dark %d.png'),
          durationSec: 2,
          cues: [{ text: 'Падение {Константинополя}', startSec: 0.2, endSec: 1.2 }],
          fadeInSec: 0.3,
          outPath: join(dir, 'seg-0.mp4'),
        }),
      ),
      assembler.renderSegment(
        segment({
          index: 1,
          imagePath: join(dir, 'mandel.png'),
          durationSec: 1.5,
          motion: { zoomFrom: 1.25, zoomTo: 1.05, panFrom: { x: -1, y: 0 }, panTo: { x: 1, y: 0.2 } },
          outPath: join(dir, 'seg-1.mp4'),
        }),
      ),
      assembler.renderSegment(
        segment({
          index: 2,
          imagePath: join(dir, 'bars.png'),
          durationSec: 2.5,
          cues: [{ text: 'The end', startSec: 0.5, endSec: 2 }],
          fadeOutSec: 0.5,
          outPath: join(dir, 'seg-2.mp4'),
        }),
      ),
    ]);
    const audio = await assembler.mixAudio({
      voice: [
        { path: join(dir, 'voice-a.wav'), offsetSec: 0.5 },
        { path: join(dir, 'voice-b.wav'), offsetSec: 3.5 },
      ],
      musicPath: join(dir, 'music.wav'),
      durationSec: 6,
      outPath: join(dir, 'final.m4a'),
    });
    video = await assembler.finish({
      segments: [rendered[2]!, rendered[0]!, rendered[1]!],
      audio,
      durationSec: 6,
      outPath: join(dir, 'final.mp4'),
      title: 'The fall of Constantinople',
    });
    frames = await readGrayFrames(video.path, W, H);
  });

  it('renders each segment to exactly its whole number of frames', async () => {
    expect(rendered.map((r) => r.durationSec)).toEqual([2, 1.5, 2.5]);
    for (const r of rendered) {
      const info = await probe(r.path);
      const stream = info.streams.find((s) => s.codec_type === 'video')!;
      expect(stream).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p', width: W, height: H, fps: FPS });
      expect(info.streams.some((s) => s.codec_type === 'audio')).toBe(false);
      expect(info.durationSec).toBeCloseTo(r.durationSec, 2);
    }
  });

  it('leaves no caption or partial files beside the clips', async () => {
    const names = await readdir(dir);
    expect(names.filter((n) => n.endsWith('.ass') || n.endsWith('.part') || n.endsWith('.txt'))).toEqual([]);
  });

  it('finishes an H.264 + AAC MP4 of the timeline length, with the title', async () => {
    expect(video).toMatchObject({ width: W, height: H });
    expect(video.durationSec).toBeGreaterThan(5.9);
    expect(video.durationSec).toBeLessThan(6.1);
    expect(video.sizeBytes).toBe((await stat(video.path)).size);

    const info = await probe(video.path);
    const v = info.streams.find((s) => s.codec_type === 'video')!;
    const a = info.streams.find((s) => s.codec_type === 'audio')!;
    expect(v).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p', width: W, height: H, fps: FPS });
    expect(a).toMatchObject({ codec_name: 'aac', sample_rate: 48_000, channels: 2 });
    expect(Math.abs(a.durationSec! - 6)).toBeLessThan(0.1);
    expect(info.tags['title']).toBe('The fall of Constantinople');
    expect(frames.length).toBe(6 * FPS);
  });

  it('puts the index (moov) before the media data, so chat apps can stream it', async () => {
    const boxes = await topLevelBoxes(video.path);
    expect(boxes[0]).toBe('ftyp');
    expect(boxes).toContain('moov');
    expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
  });

  it('shows a picture (not black) in every segment, a different one for each', () => {
    const middles = [frames[30]!, frames[60 + 22]!, frames[105 + 37]!];
    for (const frame of middles) expect(meanLuma(frame)).toBeGreaterThan(30);
    expect(meanAbsDiff(middles[0]!, middles[1]!)).toBeGreaterThan(15);
    expect(meanAbsDiff(middles[1]!, middles[2]!)).toBeGreaterThan(15);
  });

  it('fades in from black at the start and out to black at the end', () => {
    expect(meanLuma(frames[0]!)).toBeLessThan(meanLuma(frames[30]!) / 3);
    expect(meanLuma(frames.at(-1)!)).toBeLessThan(20);
  });

  it('burns captions in the lower middle only while a cue is active', () => {
    // Cue 0.2-1.2 s on a dark picture: white text in the caption band at 0.7 s, none at 1.7 s.
    const top = Math.round(H * 0.55);
    const bottom = Math.round(H * 0.8);
    const during = brightShare(frames[21]!, W, top, bottom);
    const after = brightShare(frames[51]!, W, top, bottom);
    expect(during).toBeGreaterThan(0.01);
    expect(after).toBeLessThan(0.001);
    // Nothing sits in the bottom fifth, where the app's buttons and text are.
    expect(brightShare(frames[21]!, W, Math.round(H * 0.8), H)).toBeLessThan(0.001);
  });

  it('moves the picture smoothly: every frame differs a little from the last, with no jumps', () => {
    // The middle of segment 1 (frames 60-104): a pan across the Mandelbrot set.
    const diffs: number[] = [];
    for (let i = 64; i < 100; i++) diffs.push(meanAbsDiff(frames[i]!, frames[i + 1]!));
    const sorted = [...diffs].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    expect(Math.min(...diffs)).toBeGreaterThan(0.2);
    expect(median).toBeLessThan(12);
    // Whole-pixel motion (zoompan) alternates small and large steps: measured jump/median ~1.2
    // for zoompan on this clip against ~0.15 here. Smooth motion changes its step gradually.
    let jump = 0;
    for (let i = 1; i < diffs.length; i++) jump = Math.max(jump, Math.abs(diffs[i]! - diffs[i - 1]!));
    expect(jump / median).toBeLessThan(0.4);
  });

  it('mixes the voice over the music and ducks the music while the voice speaks', async () => {
    const rate = 16_000;
    const music = await readSamples(video.path, { rate, filter: 'bandpass=f=200:width_type=q:w=4,bandpass=f=200:width_type=q:w=4' });
    const voice = await readSamples(video.path, { rate, filter: 'bandpass=f=1000:width_type=q:w=4,bandpass=f=1000:width_type=q:w=4' });
    // Voice A: 0.5-1.7 s. Voice B: 3.5-4.5 s. Music alone: 2.2-3.3 s (past the 2.5 s loop point too).
    const musicUnderVoice = rmsDb(music, rate, 0.9, 1.5);
    const musicAlone = rmsDb(music, rate, 2.4, 3.3);
    expect(musicAlone - musicUnderVoice).toBeGreaterThan(6);
    expect(rmsDb(voice, rate, 0.9, 1.5) - musicUnderVoice).toBeGreaterThan(12);
    expect(rmsDb(voice, rate, 3.7, 4.3)).toBeGreaterThan(rmsDb(voice, rate, 2.4, 3.3) + 20);
    // The music keeps playing to the end (looped), under the fade-out.
    expect(rmsDb(music, rate, 4.7, 5.0)).toBeGreaterThan(-45);
  });

  it('measures durations of audio and video files', async () => {
    expect(await assembler.probeDurationSec(join(dir, 'voice-a.wav'))).toBeCloseTo(1.2, 2);
    expect(await assembler.probeDurationSec(video.path)).toBeCloseTo(6, 1);
  });

  videoAssemblerUploadContract(() => ({ assembler, video, dir }));

  it('makes a JPEG thumbnail that fits in 320x320 for chat uploads', async () => {
    const thumb = await assembler.thumbnail(video.path, join(dir, 'thumb.jpg'), 1);
    expect(thumb).toMatchObject({ width: 180, height: 320 });
    const head = (await readFile(thumb.path)).subarray(0, 2);
    expect([...head]).toEqual([0xff, 0xd8]);
  });

  it('fitToSize re-encodes under a smaller limit on the first try', async () => {
    const limit = Math.floor(video.sizeBytes * 0.6);
    const fitted = await assembler.fitToSize(video.path, join(dir, 'fitted.mp4'), limit);
    expect(fitted.sizeBytes).toBeLessThanOrEqual(limit);
    expect(fitted.sizeBytes).toBe((await stat(fitted.path)).size);
    expect(fitted.durationSec).toBeCloseTo(6, 1);
    const info = await probe(fitted.path);
    expect(info.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
  });

  it('fitToSize says too_large when the limit would need a uselessly low bitrate', async () => {
    const error = await caught(assembler.fitToSize(video.path, join(dir, 'tiny.mp4'), 20_000));
    expect(error.code).toBe('too_large');
    expect(error.params).toEqual({ bytes: video.sizeBytes, limitBytes: 20_000 });
    // The chat hears the limit (a wrong param name once hid it).
    expect(errorText(error, 'en')).toMatch(/\(0\.02 MB\)/);
    await expect(stat(join(dir, 'tiny.mp4'))).rejects.toThrow();
  });
});

describe('FfmpegAssembler: full-size output', () => {
  it('renders and finishes a 2 s 1080x1920 video with the tier default preset', async () => {
    const clip = await assembler.renderSegment(
      segment({
        index: 0,
        imagePath: join(dir, 'mandel.png'),
        durationSec: 2,
        width: 1080,
        height: 1920,
        x264Preset: 'veryfast',
        cues: [{ text: 'Full size', startSec: 0, endSec: 2 }],
        outPath: join(dir, 'full-seg.mp4'),
      }),
    );
    const audio = await assembler.mixAudio({
      voice: [{ path: join(dir, 'voice-b.wav'), offsetSec: 0.2 }],
      musicPath: join(dir, 'music.wav'),
      durationSec: 2,
      outPath: join(dir, 'full.m4a'),
    });
    const video = await assembler.finish({ segments: [clip], audio, durationSec: 2, outPath: join(dir, 'full.mp4'), title: 'Full' });
    expect(video).toMatchObject({ width: 1080, height: 1920 });
    expect(Math.abs(video.durationSec - 2)).toBeLessThan(0.1);
    const info = await probe(video.path);
    expect(info.streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', fps: 30, pix_fmt: 'yuv420p' });
    const frames = await readGrayFrames(video.path, 270, 480);
    expect(frames.length).toBe(60);
    expect(meanLuma(frames[30]!)).toBeGreaterThan(30);
  });
});

describe('FfmpegAssembler: fonts folder', () => {
  it('accepts a fonts folder (tmpFontsDir) at a path full of filter-graph metacharacters and draws captions', async () => {
    const fonts = join(dir, 'fonts');
    await mkdir(fonts, { recursive: true });
    await copyFile('/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf', join(fonts, 'DejaVuSans-Bold.ttf'));
    const withFonts = new FfmpegAssembler({ renderConcurrency: 1, tmpFontsDir: fonts });
    const clip = await withFonts.renderSegment(
      segment({ index: 0, imagePath: join(dir, 'dark %d.png'), durationSec: 1, cues: [{ text: 'Шрифт', startSec: 0, endSec: 1 }], outPath: join(dir, 'fonts.mp4') }),
    );
    const frames = await readGrayFrames(clip.path, W, H);
    expect(brightShare(frames[15]!, W, Math.round(H * 0.55), Math.round(H * 0.8))).toBeGreaterThan(0.005);
  });
});

describe('FfmpegAssembler: cancellation and the shared render pool', () => {
  it('an abort mid-render kills ffmpeg promptly, rejects with cancelled and leaves no output', async () => {
    const outPath = join(dir, 'cancelled.mp4');
    const controller = new AbortController();
    const run = assembler.renderSegment(
      segment({ index: 0, imagePath: join(dir, 'bars.png'), durationSec: 20, width: 1080, height: 1920, x264Preset: 'veryfast', outPath, cues: [{ text: 'x', startSec: 0, endSec: 20 }] }),
      controller.signal,
    );
    // Wait for the encoder to be running (a state, not a fixed 700 ms a busy machine can outlast).
    await waitFor('the encoder to start', async () => (await ffmpegProcessesWriting(outPath)) === 1, 20_000);
    controller.abort();
    // A 20 s 1080x1920 encode outlasts the test's time limit: only the kill ends it in time.
    const error = await caught(run);
    expect(error.code).toBe('cancelled');
    expect(await ffmpegProcessesWriting(outPath)).toBe(0);
    const left = (await readdir(dir)).filter((name) => name.startsWith('cancelled'));
    expect(left).toEqual([]);
  });

  it('runs at most renderConcurrency renders at once, and a waiting render can be cancelled', async () => {
    const pool = new FfmpegAssembler({ renderConcurrency: 1 });
    const first = new AbortController();
    const second = new AbortController();
    const long = segment({ index: 0, imagePath: join(dir, 'bars.png'), durationSec: 20, outPath: join(dir, 'pool-a.mp4') });
    const a = pool.renderSegment(long, first.signal);
    const b = pool.renderSegment({ ...long, outPath: join(dir, 'pool-b.mp4') }, second.signal);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(pool.load).toEqual({ running: 1, waiting: 1 });
    expect(await ffmpegProcessesWriting(join(dir, 'pool-b.mp4'))).toBe(0);

    second.abort();
    expect((await caught(b)).code).toBe('cancelled');
    first.abort();
    expect((await caught(a)).code).toBe('cancelled');
    await pool.drained();
    expect(pool.load).toEqual({ running: 0, waiting: 0 });
  });
});
