/**
 * Captions as a viewer sees them: real espeak-ng word timings, real libass through ffmpeg, frames
 * taken at known word onsets and looked at pixel by pixel.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaptionStyle } from '../../src/core/caption-style.js';
import { buildStyledCues } from '../../src/pipeline/captions.js';
import type { Cue, WordTiming } from '../../src/pipeline/ports.js';
import { BOTTOM_SAFE_VERTICAL, captionMetrics, layoutCaption, sizeFor, textWidthEm } from '../../src/providers/ffmpeg/ass.js';
import { FfmpegAssembler } from '../../src/providers/ffmpeg/assembler.js';
import { runFfmpeg } from '../../src/providers/ffmpeg/run-ffmpeg.js';
import { EspeakSpeech } from '../../src/providers/offline/espeak-speech.js';
import { makeImage } from '../helpers/media.js';

const W = 360;
const H = 640;
const FPS = 25;
const TEXT = 'The harbour chain held the fleet back for weeks, until the sultan dragged his ships over the hill.';

let dir: string;
let black: string;
const assembler = new FfmpegAssembler({ renderConcurrency: 2 });

async function render(cues: Cue[], durationSec: number, name: string): Promise<string> {
  const out = await assembler.renderSegment({
    index: 0,
    imagePath: black,
    durationSec,
    cues,
    motion: { zoomFrom: 1, zoomTo: 1, panFrom: { x: 0, y: 0 }, panTo: { x: 0, y: 0 } },
    width: W,
    height: H,
    fps: FPS,
    x264Preset: 'ultrafast',
    fadeInSec: 0,
    fadeOutSec: 0,
    lang: 'en',
    outPath: join(dir, `${name}.mp4`),
  });
  return out.path;
}

/** The frames shown at these times (one ffmpeg run), as RGB24. */
async function framesAt(path: string, secs: readonly number[]): Promise<Buffer[]> {
  const numbers = secs.map((s) => Math.floor(s * FPS + 1e-6));
  const select = numbers.map((n) => `eq(n\\,${n})`).join('+');
  const { stdout } = await runFfmpeg(['-i', path, '-vf', `select=${select}`, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
    captureStdout: true,
  });
  const size = W * H * 3;
  const frames: Buffer[] = [];
  for (let i = 0; i + size <= stdout.length; i += size) frames.push(stdout.subarray(i, i + size));
  // Frames come out in time order: map them back to the asked times.
  const order = [...new Set(numbers)].sort((a, b) => a - b);
  return numbers.map((n) => frames[order.indexOf(n)]!);
}

/** Pixels in the highlight colour (#FFD400): strong red and green, little blue. */
function highlightPixels(frame: Buffer): Array<{ x: number; y: number }> {
  const out: Array<{ x: number; y: number }> = [];
  for (let i = 0; i + 2 < frame.length; i += 3) {
    const [r, g, b] = [frame[i]!, frame[i + 1]!, frame[i + 2]!];
    if (r > 190 && g > 140 && b < 110 && r - b > 120) out.push({ x: (i / 3) % W, y: Math.floor(i / 3 / W) });
  }
  return out;
}

/** Where each word of a karaoke page sits: its line and its centre x, from the layout the ASS uses. */
function wordCentres(text: string): Array<{ line: number; x: number }> {
  const m = captionMetrics(W, H);
  const layout = layoutCaption(text, m.maxLineWidth, sizeFor('karaoke', m.fontSize));
  const centres: Array<{ line: number; x: number }> = [];
  layout.lines.forEach((line, index) => {
    const lineWidth = textWidthEm(line) * layout.fontSize;
    let x = (W - lineWidth) / 2;
    for (const word of line.split(' ')) {
      const w = textWidthEm(word) * layout.fontSize;
      centres.push({ line: index, x: x + w / 2 });
      x += w + textWidthEm(' ') * layout.fontSize;
    }
  });
  return centres;
}

/** Rows of text in a frame, as bands [top, bottom] of rows with bright or coloured pixels. */
function textBands(frame: Buffer): Array<[number, number]> {
  const bands: Array<[number, number]> = [];
  let start = -1;
  let last = -10;
  for (let y = 0; y < H; y++) {
    let lit = false;
    for (let x = 0; x < W && !lit; x++) {
      const i = (y * W + x) * 3;
      lit = frame[i]! + frame[i + 1]! + frame[i + 2]! > 3 * 90;
    }
    if (!lit) continue;
    if (y - last > 3) {
      if (start >= 0) bands.push([start, last]);
      start = y;
    }
    last = y;
  }
  if (start >= 0) bands.push([start, last]);
  return bands;
}

describe('word-timed captions in rendered frames', () => {
  let words: WordTiming[];
  let karaoke: Cue[];
  let clip: string;
  let durationSec: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reelforge-captions-'));
    black = join(dir, 'black.png');
    await makeImage(black, `color=c=black:s=${W}x${H}`);
    const voice = await new EspeakSpeech().synthesize({ text: TEXT, lang: 'en' });
    words = voice.words ?? [];
    durationSec = Math.ceil(((voice.durationSec ?? 0) + 0.5) * FPS) / FPS;
    karaoke = buildStyledCues(words, 'karaoke', 0);
    clip = await render(karaoke, durationSec, 'karaoke');
  }, 60_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('shows only the script’s words, every one of them, in order', () => {
    expect(words.map((w) => w.text)).toEqual(TEXT.split(' '));
    const pages: string[] = [];
    for (const cue of karaoke) if (!cue.joinPrev) pages.push(cue.text);
    expect(pages.join(' ')).toBe(TEXT);
    const pop = buildStyledCues(words, 'pop', 0);
    expect(pop.map((c) => c.text).join(' ')).toBe(TEXT.toUpperCase());
    const clean = buildStyledCues(words, 'clean', 0);
    expect(clean.map((c) => c.text).join(' ')).toBe(TEXT);
  });

  it('has, at every word onset, one karaoke event up and its highlighted word is the word being spoken', () => {
    for (const word of words) {
      const t = word.startSec + 0.02;
      const up = karaoke.filter((c) => c.startSec <= t && t < c.endSec);
      expect(up, word.text).toHaveLength(1);
      const cue = up[0]!;
      expect(cue.text.split(' ')[cue.highlight ?? -1]).toBe(word.text);
    }
  });

  it('draws the spoken word in the highlight colour in frames taken at word onsets', { timeout: 120_000 }, async () => {
    // Every word after the first of its page (the page fades in on its first word): the
    // highlighted pixels sit over that word.
    const checked = words.filter((w) => karaoke.some((c) => c.joinPrev && Math.abs(c.startSec - w.startSec) < 1e-6 && w.endSec - w.startSec > 0.1));
    expect(checked.length).toBeGreaterThan(5);
    const frames = await framesAt(
      clip,
      checked.map((w) => w.startSec + 0.06),
    );
    for (const [k, word] of checked.entries()) {
      const t = Math.floor((word.startSec + 0.06) * FPS + 1e-6) / FPS;
      const cue = karaoke.find((c) => c.startSec <= t && t < c.endSec)!;
      expect(cue.text.split(' ')[cue.highlight ?? -1], 'the event up in that frame').toBe(word.text);
      const frame = frames[k]!;
      const pixels = highlightPixels(frame);
      expect(pixels.length, `highlight pixels for "${word.text}"`).toBeGreaterThan(20);
      const cx = pixels.reduce((a, p) => a + p.x, 0) / pixels.length;
      const cy = pixels.reduce((a, p) => a + p.y, 0) / pixels.length;
      const line = textBands(frame).findIndex(([top, bottom]) => cy >= top && cy <= bottom);
      const centres = wordCentres(cue.text);
      let nearest = -1;
      centres.forEach((c, i) => {
        if (c.line !== line) return;
        if (nearest < 0 || Math.abs(c.x - cx) < Math.abs(centres[nearest]!.x - cx)) nearest = i;
      });
      expect(cue.text.split(' ')[nearest], `highlight at ${Math.round(cx)},${Math.round(cy)} px (line ${line})`).toBe(word.text);
    }
  });

  it('keeps every style inside the safe area (above the bottom quarter, clear of the sides) and within two lines', { timeout: 180_000 }, async () => {
    const long: WordTiming[] = 'Достопримечательности Константинополя поражали путешественников'.split(' ').map((text, i) => ({ text, startSec: i * 0.5, endSec: i * 0.5 + 0.45 }));
    for (const style of ['clean', 'karaoke', 'pop'] as CaptionStyle[]) {
      const cues = buildStyledCues([...long, ...words.map((w) => ({ ...w, startSec: w.startSec + 2, endSec: w.endSec + 2 }))], style, 0, 'ru');
      const path = await render(cues, 1.6, `safe-${style}`);
      const times = [0.3, 1.2];
      const frames = await framesAt(path, times);
      for (const [k, t] of times.entries()) {
        const frame = frames[k]!;
        let top = H;
        let bottom = -1;
        let left = W;
        let right = -1;
        const rows = new Array<boolean>(H).fill(false);
        for (let y = 0; y < H; y++) {
          for (let x = 0; x < W; x++) {
            const i = (y * W + x) * 3;
            if (frame[i]! + frame[i + 1]! + frame[i + 2]! > 3 * 90) {
              top = Math.min(top, y);
              bottom = Math.max(bottom, y);
              left = Math.min(left, x);
              right = Math.max(right, x);
              rows[y] = true;
            }
          }
        }
        expect(bottom, `${style} at ${t}s: some caption`).toBeGreaterThan(0);
        expect(bottom, `${style} bottom edge`).toBeLessThan(H * (1 - 0.25));
        expect(left, `${style} left edge`).toBeGreaterThanOrEqual(W * 0.05);
        expect(right, `${style} right edge`).toBeLessThanOrEqual(W * 0.95);
        // Lines are bands of text rows separated by a clear gap.
        let bands = 0;
        for (let y = 0, inBand = false, gap = 0; y < H; y++) {
          if (rows[y]) {
            if (!inBand && (bands === 0 || gap > 3)) bands++;
            inBand = true;
            gap = 0;
          } else {
            gap++;
            if (gap > 3) inBand = false;
          }
        }
        expect(bands, `${style} lines`).toBeLessThanOrEqual(2);
        expect(top, `${style} top`).toBeGreaterThan(H * 0.4);
      }
    }
    expect(BOTTOM_SAFE_VERTICAL).toBeGreaterThanOrEqual(0.25);
  });
});
