/**
 * Media helpers for tests: make pictures and tones with ffmpeg itself, and look at results the way
 * a viewer would (frames as gray pixels, sound as samples, the MP4's box order).
 */
import { open } from 'node:fs/promises';
import { runFfmpeg } from '../../src/providers/ffmpeg/run-ffmpeg.js';

/** Renders one frame of a lavfi source (e.g. `mandelbrot=s=640x960`, `testsrc2=s=600x900`) to an image. */
export async function makeImage(path: string, lavfiSource: string, filters?: string): Promise<void> {
  await runFfmpeg(['-y', '-f', 'lavfi', '-i', lavfiSource, ...(filters ? ['-vf', filters] : []), '-frames:v', '1', '-update', '1', path]);
}

/** A dark picture with fine texture: motion shows in every frame, white captions stand out. */
export async function makeDarkTexture(path: string, width = 640, height = 960): Promise<void> {
  await makeImage(path, `color=c=0x203048:s=${width}x${height}`, 'noise=alls=30:allf=u,gblur=sigma=1.2');
}

/** A sine tone as a WAV file. */
export async function makeTone(path: string, options: { freq: number; durationSec: number; sampleRate?: number; volume?: number }): Promise<void> {
  const rate = options.sampleRate ?? 24_000;
  const volume = options.volume ?? 0.5;
  await runFfmpeg(['-y', '-f', 'lavfi', '-i', `sine=f=${options.freq}:d=${options.durationSec}:r=${rate}`, '-af', `volume=${volume}`, path]);
}

/** Every frame of a video, scaled to `width`x`height`, as 8-bit gray pixels. */
export async function readGrayFrames(path: string, width: number, height: number): Promise<Buffer[]> {
  const { stdout } = await runFfmpeg(
    ['-i', path, '-map', '0:v:0', '-vf', `scale=${width}:${height}:flags=area,format=gray`, '-f', 'rawvideo', 'pipe:1'],
    { captureStdout: true },
  );
  const size = width * height;
  const frames: Buffer[] = [];
  for (let offset = 0; offset + size <= stdout.length; offset += size) frames.push(stdout.subarray(offset, offset + size));
  return frames;
}

export function meanLuma(frame: Buffer): number {
  let sum = 0;
  for (const v of frame) sum += v;
  return sum / frame.length;
}

export function meanAbsDiff(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

/** Share of pixels brighter than `threshold` in rows [fromRow, toRow). */
export function brightShare(frame: Buffer, width: number, fromRow: number, toRow: number, threshold = 230): number {
  let bright = 0;
  let total = 0;
  for (let y = fromRow; y < toRow; y++) {
    for (let x = 0; x < width; x++) {
      total++;
      if (frame[y * width + x]! > threshold) bright++;
    }
  }
  return total === 0 ? 0 : bright / total;
}

/** The audio as mono float samples, optionally through an ffmpeg audio filter first. */
export async function readSamples(path: string, options: { rate?: number; filter?: string } = {}): Promise<Float32Array> {
  const rate = options.rate ?? 16_000;
  const filter = [options.filter, `aresample=${rate}`, 'aformat=sample_fmts=flt:channel_layouts=mono'].filter(Boolean).join(',');
  const { stdout } = await runFfmpeg(['-i', path, '-map', '0:a:0', '-af', filter, '-f', 'f32le', 'pipe:1'], { captureStdout: true });
  const copy = new Uint8Array(stdout.length - (stdout.length % 4));
  copy.set(stdout.subarray(0, copy.length));
  return new Float32Array(copy.buffer);
}

/** RMS level in dBFS of the samples between two times. */
export function rmsDb(samples: Float32Array, rate: number, fromSec: number, toSec: number): number {
  const from = Math.max(0, Math.floor(fromSec * rate));
  const to = Math.min(samples.length, Math.floor(toSec * rate));
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples[i]! * samples[i]!;
  const rms = Math.sqrt(sum / Math.max(1, to - from));
  return 20 * Math.log10(Math.max(rms, 1e-9));
}

/** The top-level MP4 boxes in file order, e.g. ['ftyp', 'moov', 'free', 'mdat']. */
export async function topLevelBoxes(path: string): Promise<string[]> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const boxes: string[] = [];
    const header = Buffer.alloc(16);
    let offset = 0;
    while (offset + 8 <= size && boxes.length < 32) {
      await file.read(header, 0, 16, offset);
      let boxSize = header.readUInt32BE(0);
      boxes.push(header.toString('latin1', 4, 8));
      if (boxSize === 1) boxSize = Number(header.readBigUInt64BE(8));
      else if (boxSize === 0) break;
      offset += boxSize;
    }
    return boxes;
  } finally {
    await file.close();
  }
}
