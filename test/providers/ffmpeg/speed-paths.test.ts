import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SegmentRenderInput } from '../../../src/pipeline/ports.js';
import { FfmpegAssembler, segmentEncoderArgs, type RenderTiming } from '../../../src/providers/ffmpeg/assembler.js';
import { probe } from '../../../src/providers/ffmpeg/probe.js';
import { runFfmpeg } from '../../../src/providers/ffmpeg/run-ffmpeg.js';
import { AUDIO_BPS, MIN_VIDEO_BPS, videoBitrateFor } from '../../../src/providers/ffmpeg/bitrate.js';
import { makeImage, makeTone, meanAbsDiff, readGrayFrames } from '../../helpers/media.js';

const W = 270;
const H = 480;
let dir: string;

function segment(overrides: Partial<SegmentRenderInput> & Pick<SegmentRenderInput, 'index' | 'imagePath' | 'outPath'>): SegmentRenderInput {
  return {
    durationSec: 1.5,
    cues: [],
    motion: { zoomFrom: 1.25, zoomTo: 1.05, panFrom: { x: -1, y: 0 }, panTo: { x: 1, y: 0.2 } },
    width: W,
    height: H,
    fps: 30,
    x264Preset: 'veryfast',
    fadeInSec: 0,
    fadeOutSec: 0,
    lang: 'en',
    ...overrides,
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reelforge-speed-'));
  await Promise.all([
    // Smaller than the 270x480 video, as image models' 1024x1536 is smaller than 1080x1920.
    makeImage(join(dir, 'small.jpg'), 'mandelbrot=s=216x384'),
    makeImage(join(dir, 'large.png'), 'mandelbrot=s=540x960'),
    makeTone(join(dir, 'voice.wav'), { freq: 1000, durationSec: 1.5, volume: 0.3 }),
    makeTone(join(dir, 'music.wav'), { freq: 200, durationSec: 3, volume: 0.5 }),
  ]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('segmentEncoderArgs: the x264 settings every segment shares', () => {
  it('gives veryfast the diamond search with one sub-pixel pass, and leaves other presets as x264 has them', () => {
    const params = (preset: string): string => {
      const args = segmentEncoderArgs({ x264Preset: preset, fps: 30, width: 1080, height: 1920 });
      return args[args.indexOf('-x264-params') + 1]!;
    };
    expect(params('veryfast')).toMatch(/^me=dia:subme=1:keyint=60:/);
    expect(params('faster')).not.toMatch(/subme/);
  });

  it('lowers the bitrate ceiling to what the destination allows, never raises it', () => {
    const maxrate = (maxVideoBitrate?: number): number => {
      const args = segmentEncoderArgs({ x264Preset: 'veryfast', fps: 30, width: 1080, height: 1920, maxVideoBitrate });
      return Number(args[args.indexOf('-maxrate') + 1]);
    };
    expect(maxrate()).toBe(Math.round(1080 * 1920 * 30 * 0.085));
    expect(maxrate(900_000)).toBe(900_000);
    expect(maxrate(50_000_000)).toBe(maxrate());
  });

  it('caps the video bitrate so a file of the asked length (and 30 % more) fits the destination', () => {
    // Room for 30 % more than asked, with the audio and the container: a 78 s file still fits.
    const cap = videoBitrateFor(10 * 1024 * 1024, 60);
    expect(((cap + AUDIO_BPS) * 78) / 8).toBeLessThan(10 * 1024 * 1024);
    expect(cap).toBeGreaterThan(700_000);
    expect(videoBitrateFor(100_000, 60)).toBe(MIN_VIDEO_BPS);
    // A segment told the destination's limit encodes under that cap.
    const args = segmentEncoderArgs({ x264Preset: 'veryfast', fps: 30, width: 1080, height: 1920, sizeLimit: { maxBytes: 10 * 1024 * 1024, durationSec: 60 } });
    expect(Number(args[args.indexOf('-maxrate') + 1])).toBe(cap);
  });
});

describe('FfmpegAssembler speed paths keep the picture right', () => {
  it('renders a picture smaller than the video at full size, whole frames, moving smoothly', async () => {
    const clip = await new FfmpegAssembler({ renderConcurrency: 1 }).renderSegment(
      segment({ index: 0, imagePath: join(dir, 'small.jpg'), outPath: join(dir, 'small.mp4') }),
    );
    const info = await probe(clip.path);
    expect(info.streams[0]).toMatchObject({ width: W, height: H, fps: 30 });
    const frames = await readGrayFrames(clip.path, W, H);
    expect(frames).toHaveLength(45);
    const diffs: number[] = [];
    for (let i = 4; i < 40; i++) diffs.push(meanAbsDiff(frames[i]!, frames[i + 1]!));
    const median = [...diffs].sort((a, b) => a - b)[Math.floor(diffs.length / 2)]!;
    let jump = 0;
    for (let i = 1; i < diffs.length; i++) jump = Math.max(jump, Math.abs(diffs[i]! - diffs[i - 1]!));
    expect(Math.min(...diffs)).toBeGreaterThan(0.2);
    // The same bound the full-size path meets (assembler.test.ts): no whole-pixel judder.
    expect(jump / median).toBeLessThan(0.4);
  });

  it('lands the finished mix near -14 LUFS with peaks under -1 dBFS, from measured gains', async () => {
    const assembler = new FfmpegAssembler({ renderConcurrency: 2 });
    const clip = await assembler.renderSegment(segment({ index: 0, imagePath: join(dir, 'large.png'), durationSec: 3, outPath: join(dir, 'seg.mp4') }));
    const audio = await assembler.mixAudio({
      voice: [{ path: join(dir, 'voice.wav'), offsetSec: 0.5 }],
      musicPath: join(dir, 'music.wav'),
      durationSec: 3,
      outPath: join(dir, 'mix.m4a'),
    });
    const video = await assembler.finish({ segments: [clip], audio, durationSec: 3, outPath: join(dir, 'mix.mp4'), title: 'Loudness' });
    const { stderrTail } = await runFfmpeg(['-nostats', '-i', video.path, '-map', '0:a', '-af', 'ebur128=framelog=verbose:peak=sample', '-f', 'null', '-'], { logLevel: 'info' });
    const summary = stderrTail.join('\n');
    const lufs = Number(/I:\s+(-?[\d.]+) LUFS/.exec(summary)?.[1]);
    const peak = Number(/Peak:\s+(-?[\d.]+) dBFS/.exec(summary)?.[1]);
    expect(Math.abs(lufs - -14)).toBeLessThan(2);
    expect(peak).toBeLessThan(-1);
  });

  it('tells an observer how long each render waited for a slot and how long it ran', async () => {
    const timings: RenderTiming[] = [];
    const pool = new FfmpegAssembler({ renderConcurrency: 1, onTiming: (t) => timings.push(t) });
    await Promise.all([
      pool.renderSegment(segment({ index: 0, imagePath: join(dir, 'large.png'), durationSec: 1, x264Preset: 'ultrafast', outPath: join(dir, 't0.mp4') })),
      pool.renderSegment(segment({ index: 1, imagePath: join(dir, 'large.png'), durationSec: 1, x264Preset: 'ultrafast', outPath: join(dir, 't1.mp4') })),
    ]);
    expect(timings.map((t) => [t.kind, t.index])).toEqual([['segment', 0], ['segment', 1]]);
    expect(timings.every((t) => t.ranMs > 0)).toBe(true);
    // One slot: the second waited for (nearly: it was queued just after the first began) the whole of the first.
    expect(timings[1]!.waitedMs).toBeGreaterThanOrEqual(timings[0]!.ranMs * 0.8);
  });
});
