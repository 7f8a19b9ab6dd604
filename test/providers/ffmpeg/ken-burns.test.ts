import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { Motion } from '../../../src/pipeline/ports.js';
import { KenBurnsFrames, motionWindow } from '../../../src/providers/ffmpeg/motion/ken-burns.js';
import { compileWat, WASM_SOURCES } from '../../../scripts/build-wasm.js';
import { caught } from '../../helpers/errors.js';

const STILL: Motion = { zoomFrom: 1, zoomTo: 1, panFrom: { x: 0, y: 0 }, panTo: { x: 0, y: 0 } };

/** A yuv420p picture with detail everywhere (a hash of the position), plane by plane. */
function picture(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array((width * height * 3) / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (Math.imul(i + 1, 2_654_435_761) >>> 24) ^ (i % 7);
  return bytes;
}

interface PlaneView {
  width: number;
  height: number;
  at: number;
}

function planes(width: number, height: number): PlaneView[] {
  const luma = width * height;
  return [
    { width, height, at: 0 },
    { width: width / 2, height: height / 2, at: luma },
    { width: width / 2, height: height / 2, at: luma + luma / 4 },
  ];
}

/** Bilinear sample in floating point, positions clamped to the plane, as the kernel should sample. */
function bilinear(bytes: Uint8Array, plane: PlaneView, u: number, v: number): number {
  const x = Math.min(Math.max(u, 0), plane.width - 1);
  const y = Math.min(Math.max(v, 0), plane.height - 1);
  const c = Math.min(Math.floor(x), plane.width - 2);
  const r = Math.min(Math.floor(y), plane.height - 2);
  const fx = x - c;
  const fy = y - r;
  const at = (cc: number, rr: number): number => bytes[plane.at + rr * plane.width + cc]!;
  const top = at(c, r) * (1 - fx) + at(c + 1, r) * fx;
  const bottom = at(c, r + 1) * (1 - fx) + at(c + 1, r + 1) * fx;
  return top * (1 - fy) + bottom * fy;
}

describe('the Ken Burns kernel (warp.wat)', () => {
  it('is committed as the binary its WebAssembly text compiles to (npm run build:wasm)', async () => {
    for (const source of WASM_SOURCES) {
      const committed = await readFile(source.replace(/\.wat$/, '.wasm'));
      expect(Buffer.from(await compileWat(source)).equals(committed)).toBe(true);
    }
  });

  it('copies the picture exactly when nothing moves', async () => {
    const source = picture(64, 48);
    const frames = await KenBurnsFrames.create(source, 64, 48, STILL, 10);
    expect(Buffer.from(frames.render(0)).equals(Buffer.from(source))).toBe(true);
    expect(Buffer.from(frames.render(9)).equals(Buffer.from(source))).toBe(true);
  });

  it.each([
    ['zoom in, pan right and down', 1.05, 1.3, { x: -1, y: -0.5 }, { x: 1, y: 0.7 }],
    ['zoom out, pan left', 1.4, 1.02, { x: 0.8, y: 0 }, { x: -0.9, y: 0.2 }],
  ])('samples every plane within one level of exact bilinear interpolation (%s), widths not a multiple of 8 included', async (_name, zoomFrom, zoomTo, panFrom, panTo) => {
    // 270x480: chroma rows of 135 pixels end mid-group.
    const width = 270;
    const height = 480;
    const motion: Motion = { zoomFrom, zoomTo, panFrom, panTo };
    const source = picture(width, height);
    const frames = await KenBurnsFrames.create(source, width, height, motion, 30);
    for (const n of [0, 7, 29]) {
      const frame = frames.render(n);
      const w = motionWindow(motion, n, 30, width, height);
      let worst = 0;
      for (const [i, plane] of planes(width, height).entries()) {
        const left = i === 0 ? w.left : w.left / 2;
        const top = i === 0 ? w.top : w.top / 2 + (w.scale - 1) / 4;
        for (let y = 0; y < plane.height; y++) {
          for (let x = 0; x < plane.width; x++) {
            const expected = bilinear(source, plane, left + x * w.scale, top + y * w.scale);
            worst = Math.max(worst, Math.abs(frame[plane.at + y * plane.width + x]! - expected));
          }
        }
      }
      expect(worst).toBeLessThanOrEqual(1);
    }
  });

  it('keeps a rendered frame intact while the next one is made (two frames alternate)', async () => {
    const motion: Motion = { zoomFrom: 1.1, zoomTo: 1.2, panFrom: { x: -1, y: 0 }, panTo: { x: 1, y: 0 } };
    const frames = await KenBurnsFrames.create(picture(32, 32), 32, 32, motion, 5);
    const first = frames.render(0);
    const copy = Buffer.from(first);
    const second = frames.render(1);
    expect(Buffer.from(first).equals(copy)).toBe(true);
    expect(Buffer.from(second).equals(copy)).toBe(false);
  });

  it('refuses a picture that is not the video size, or an odd size, as an internal error', async () => {
    expect((await caught(KenBurnsFrames.create(new Uint8Array(10), 64, 48, STILL, 1))).code).toBe('internal');
    expect((await caught(KenBurnsFrames.create(picture(63, 48), 63, 48, STILL, 1))).code).toBe('internal');
  });
});

describe('motionWindow: the part of the picture each frame shows', () => {
  const size = { width: 1080, height: 1920 };
  const window = (motion: Motion, n: number, frames = 150): ReturnType<typeof motionWindow> =>
    motionWindow(motion, n, frames, size.width, size.height);
  /** The window's edges in pixel-edge coordinates. */
  const edges = (w: ReturnType<typeof motionWindow>): { left: number; right: number; top: number; bottom: number } => ({
    left: w.left + 0.5 - 0.5 * w.scale,
    right: w.left + 0.5 - 0.5 * w.scale + size.width * w.scale,
    top: w.top + 0.5 - 0.5 * w.scale,
    bottom: w.top + 0.5 - 0.5 * w.scale + size.height * w.scale,
  });

  it('zooms from zoomFrom to zoomTo at a constant apparent speed', () => {
    const motion: Motion = { zoomFrom: 1.1, zoomTo: 1.3, panFrom: { x: 0, y: 0 }, panTo: { x: 0, y: 0 } };
    expect(1 / window(motion, 0).scale).toBeCloseTo(1.1, 9);
    expect(1 / window(motion, 149).scale).toBeCloseTo(1.3, 9);
    // Geometric: equal ratios between equally spaced frames.
    const z = (n: number): number => 1 / window(motion, n).scale;
    expect(z(50) / z(0)).toBeCloseTo(z(100) / z(50), 9);
  });

  it('pans the window from one edge of the free margin to the other, never outside the picture', () => {
    const motion: Motion = { zoomFrom: 1.25, zoomTo: 1.25, panFrom: { x: -1, y: 1 }, panTo: { x: 1, y: -1 } };
    const start = edges(window(motion, 0));
    const end = edges(window(motion, 149));
    expect(start.left).toBeCloseTo(0, 9);
    expect(start.bottom).toBeCloseTo(size.height, 9);
    expect(end.right).toBeCloseTo(size.width, 9);
    expect(end.top).toBeCloseTo(0, 9);
    for (let n = 0; n < 150; n++) {
      const e = edges(window(motion, n));
      expect(e.left).toBeGreaterThanOrEqual(-1e-9);
      expect(e.right).toBeLessThanOrEqual(size.width + 1e-9);
    }
  });

  it('centres the window of a still picture, at zoom 1 exactly on the picture', () => {
    expect(window(STILL, 0)).toEqual({ left: 0, top: 0, scale: 1 });
  });
});
