/**
 * Motion smoothness by point tracking: the bright dots of the "dots" chart are followed from frame
 * to frame (intensity-weighted centroids, to ~1/100 px), and each track is compared with a smooth
 * curve fitted to it (a cubic in time; the intended Ken Burns paths are smoother than that). The
 * residual is the jitter: whole-pixel cropping shows as tenths of a pixel and more.
 */
import { spawn } from 'node:child_process';

export interface Jitter {
  /** Root mean square distance from the smooth path, px. */
  rmsPx: number;
  /** Largest distance from the smooth path, px. */
  worstPx: number;
  dots: number;
  frames: number;
}

const RADIUS = 9;
/** Background luma of the chart is ~16; weight only what is clearly dot. */
const FLOOR = 40;

export async function measureJitter(videoPath: string, width: number, height: number, expectedDots: number): Promise<Jitter> {
  const tracks: Array<Array<{ x: number; y: number }>> = [];
  let frames = 0;
  await forEachGrayFrame(videoPath, width, height, (frame) => {
    if (frames === 0) {
      for (const start of findBlobs(frame, width, height).slice(0, expectedDots)) tracks.push([start]);
    } else {
      for (const track of tracks) {
        const last = track.at(-1)!;
        const before = track.at(-2) ?? last;
        const guess = { x: 2 * last.x - before.x, y: 2 * last.y - before.y };
        track.push(centroid(frame, width, height, guess.x, guess.y) ?? guess);
      }
    }
    frames++;
  });
  let sum = 0;
  let count = 0;
  let worst = 0;
  for (const track of tracks) {
    const fx = fitCubic(track.map((p) => p.x));
    const fy = fitCubic(track.map((p) => p.y));
    track.forEach((p, t) => {
      const d = Math.hypot(p.x - fx(t), p.y - fy(t));
      sum += d * d;
      count++;
      worst = Math.max(worst, d);
    });
  }
  return { rmsPx: count ? Math.sqrt(sum / count) : Number.NaN, worstPx: worst, dots: tracks.length, frames };
}

/** Streams the video as 8-bit gray frames at its own size, one callback per frame. */
function forEachGrayFrame(path: string, width: number, height: number, onFrame: (frame: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-v', 'error', '-i', path, '-map', '0:v:0', '-vf', 'format=gray', '-f', 'rawvideo', 'pipe:1'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const size = width * height;
    let pending: Buffer = Buffer.alloc(0);
    child.stdout.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= size) {
        onFrame(pending.subarray(0, size));
        pending = pending.subarray(size);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited with ${code} reading ${path}`))));
  });
}

/** Bright local maxima, brightest first, at least 3 radii apart. */
function findBlobs(frame: Buffer, width: number, height: number): Array<{ x: number; y: number }> {
  const peaks: Array<{ x: number; y: number; v: number }> = [];
  for (let y = RADIUS; y < height - RADIUS; y += 2) {
    for (let x = RADIUS; x < width - RADIUS; x += 2) {
      const v = frame[y * width + x]!;
      if (v > 120) peaks.push({ x, y, v });
    }
  }
  peaks.sort((a, b) => b.v - a.v);
  const blobs: Array<{ x: number; y: number }> = [];
  for (const peak of peaks) {
    if (blobs.some((b) => Math.hypot(b.x - peak.x, b.y - peak.y) < RADIUS * 3)) continue;
    // Two passes settle the window on the dot.
    const first = centroid(frame, width, height, peak.x, peak.y);
    const second = first && centroid(frame, width, height, first.x, first.y);
    if (second) blobs.push(second);
  }
  return blobs;
}

function centroid(frame: Buffer, width: number, height: number, cx: number, cy: number): { x: number; y: number } | undefined {
  let sw = 0;
  let sx = 0;
  let sy = 0;
  const x0 = Math.max(0, Math.round(cx) - RADIUS);
  const x1 = Math.min(width - 1, Math.round(cx) + RADIUS);
  const y0 = Math.max(0, Math.round(cy) - RADIUS);
  const y1 = Math.min(height - 1, Math.round(cy) + RADIUS);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const w = frame[y * width + x]! - FLOOR;
      if (w <= 0) continue;
      sw += w;
      sx += w * x;
      sy += w * y;
    }
  }
  return sw > 0 ? { x: sx / sw, y: sy / sw } : undefined;
}

/** Least-squares cubic through the samples (t = 0..n-1, scaled to [-1, 1] for conditioning). */
export function fitCubic(values: number[]): (t: number) => number {
  const n = values.length;
  const scale = (t: number): number => (n > 1 ? (2 * t) / (n - 1) - 1 : 0);
  const m: number[][] = Array.from({ length: 4 }, () => [0, 0, 0, 0, 0]);
  values.forEach((v, t) => {
    const s = scale(t);
    const powers = [1, s, s * s, s * s * s];
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) m[i]![j]! += powers[i]! * powers[j]!;
      m[i]![4]! += powers[i]! * v;
    }
  });
  // Gauss-Jordan on the 4x5 normal equations.
  for (let col = 0; col < 4; col++) {
    let pivot = col;
    for (let r = col + 1; r < 4; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    const p = m[col]![col]!;
    if (Math.abs(p) < 1e-12) continue;
    for (let c = col; c < 5; c++) m[col]![c]! /= p;
    for (let r = 0; r < 4; r++) {
      if (r === col) continue;
      const f = m[r]![col]!;
      for (let c = col; c < 5; c++) m[r]![c]! -= f * m[col]![c]!;
    }
  }
  const k = m.map((row) => row[4]!);
  return (t) => {
    const s = scale(t);
    return k[0]! + k[1]! * s + k[2]! * s * s + k[3]! * s * s * s;
  };
}
