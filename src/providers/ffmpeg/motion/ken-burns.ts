/**
 * Ken Burns frames, made in this process: a still picture (raw yuv420p at the video's size) is
 * zoomed and panned with sub-pixel bilinear sampling by a small WebAssembly SIMD kernel
 * (`warp.wat`), about 1 ms a 1080x1920 frame on this machine's cores, where ffmpeg's
 * `perspective` filter took 13-20 ms (README.md, "Performance"). The frames go to ffmpeg's stdin; ffmpeg
 * adds captions and fades and encodes.
 *
 * Coordinates are in source pixels with pixel centres on integers: output pixel x samples the
 * source at `left + x * scale`. Chroma planes (4:2:0, H.264's default siting: co-sited
 * horizontally with the left luma sample, centred between luma rows vertically) follow the same
 * window, so colour stays on its picture.
 */
import { readFile } from 'node:fs/promises';
import { ReelforgeError } from '../../../core/errors.js';
import type { Motion } from '../../../pipeline/ports.js';

/** One frame's window on the source, in luma pixels: output pixel (x, y) samples (left + x * scale, top + y * scale). */
export interface MotionWindow {
  left: number;
  top: number;
  /** Source pixels per output pixel: 1 / zoom. */
  scale: number;
}

/**
 * The window for frame `n` of `frames`: zoom changes geometrically from `zoomFrom` to `zoomTo`
 * (constant apparent speed); the window's centre moves linearly across the free margin.
 */
export function motionWindow(motion: Motion, n: number, frames: number, width: number, height: number): MotionWindow {
  const zf = clamp(motion.zoomFrom, 1, 4);
  const zt = clamp(motion.zoomTo, 1, 4);
  const p = frames > 1 ? clamp(n / (frames - 1), 0, 1) : 0;
  const zoom = zf * Math.exp(Math.log(zt / zf) * p);
  const pan = (from: number, to: number): number => {
    const a = clamp(from, -1, 1);
    return a + (clamp(to, -1, 1) - a) * p;
  };
  // Centre = size/2 * (1 + pan * (1 - 1/zoom)); the window is size/zoom wide, in pixel edges.
  const leftEdge = (width / 2) * (1 + pan(motion.panFrom.x, motion.panTo.x) * (1 - 1 / zoom)) - width / 2 / zoom;
  const topEdge = (height / 2) * (1 + pan(motion.panFrom.y, motion.panTo.y) * (1 - 1 / zoom)) - height / 2 / zoom;
  const scale = 1 / zoom;
  // Output pixel x's centre (x + 0.5 in edges) lands on leftEdge + (x + 0.5) * scale, a centre
  // coordinate 0.5 less.
  return { left: leftEdge + 0.5 * scale - 0.5, top: topEdge + 0.5 * scale - 0.5, scale };
}

/** The little of the WebAssembly JS API used here (@types/node does not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object): Promise<{ exports: object }>;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface WarpExports {
  memory: WasmMemory;
  warp: (
    src: number, sw: number, dst: number, dw: number, dh: number,
    cols: number, groups: number, rows: number, bufA: number, bufB: number,
  ) => void;
}

let warpModule: Promise<object> | undefined;

/** The kernel, compiled once per process. */
function loadWarpModule(): Promise<object> {
  warpModule ??= readFile(new URL('./warp.wasm', import.meta.url)).then(
    (bytes) => wasm.compile(bytes),
    (error: unknown) => {
      warpModule = undefined;
      throw new ReelforgeError('internal', 'The motion kernel (warp.wasm) is missing.', { cause: error });
    },
  );
  return warpModule;
}

/** Bytes reserved after every buffer the kernel reads or writes in 16-byte steps. */
const SLACK = 16;
/** Q15 weights: 1.0 is just out of reach, so it is 32767. */
const Q15_ONE = 32_767;

interface Plane {
  width: number;
  height: number;
  /** Offsets of this plane inside the source and inside each output area. */
  offset: number;
  groups: number;
  cols: number;
  rows: number;
  bufA: number;
  bufB: number;
  /** A chroma plane: half the luma size each way. */
  half: boolean;
}

export class KenBurnsFrames {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  /** The two output areas as yuv420p frames. */
  private readonly outputs: [Uint8Array, Uint8Array];

  private constructor(
    private readonly kernel: WarpExports,
    private readonly planes: Plane[],
    private readonly src: number,
    private readonly areas: [number, number],
    private readonly motion: Motion,
    private readonly frames: number,
    private readonly width: number,
    private readonly height: number,
  ) {
    this.bytes = new Uint8Array(kernel.memory.buffer);
    this.view = new DataView(kernel.memory.buffer);
    const frameBytes = (width * height * 3) / 2;
    this.outputs = [new Uint8Array(kernel.memory.buffer, areas[0], frameBytes), new Uint8Array(kernel.memory.buffer, areas[1], frameBytes)];
  }

  /**
   * @param source the still picture as yuv420p at exactly `width` x `height` (even sides)
   * @param frames how many frames the motion spans
   */
  static async create(source: Uint8Array, width: number, height: number, motion: Motion, frames: number): Promise<KenBurnsFrames> {
    if (width < 4 || height < 4 || width % 2 !== 0 || height % 2 !== 0) {
      throw new ReelforgeError('internal', 'The video size must be even and at least 4x4.', { params: { width, height } });
    }
    const frameBytes = (width * height * 3) / 2;
    if (source.length !== frameBytes) {
      throw new ReelforgeError('internal', 'The picture was not decoded to the video size.', { params: { bytes: source.length, expected: frameBytes } });
    }
    const instance = await wasm.instantiate(await loadWarpModule());
    const kernel = instance.exports as unknown as WarpExports;

    let top = 0;
    const reserve = (size: number): number => {
      const at = top;
      top += Math.ceil((size + SLACK) / 16) * 16;
      return at;
    };
    const src = reserve(frameBytes);
    const areas: [number, number] = [reserve(frameBytes), reserve(frameBytes)];
    const planes: Plane[] = [];
    let offset = 0;
    for (const half of [false, true, true]) {
      const w = half ? width / 2 : width;
      const h = half ? height / 2 : height;
      const groups = Math.ceil(w / 8);
      planes.push({
        width: w,
        height: h,
        offset,
        groups,
        cols: reserve(groups * 64),
        rows: reserve(h * 8),
        bufA: reserve(groups * 16),
        bufB: reserve(groups * 16),
        half,
      });
      offset += w * h;
    }
    const pages = Math.ceil(top / 65_536) - kernel.memory.buffer.byteLength / 65_536;
    if (pages > 0) kernel.memory.grow(pages);
    new Uint8Array(kernel.memory.buffer, src, frameBytes).set(source);
    return new KenBurnsFrames(kernel, planes, src, areas, motion, frames, width, height);
  }

  /**
   * Frame `n` as yuv420p. The bytes stay valid until frame `n + 2` is rendered (two output areas
   * alternate), so one frame can be written out while the next is made.
   */
  render(n: number): Uint8Array {
    const area = this.areas[n % 2]!;
    const window = motionWindow(this.motion, n, this.frames, this.width, this.height);
    for (const plane of this.planes) {
      // Chroma: x co-sited with luma column 2x, y centred between luma rows 2y and 2y + 1.
      const left = plane.half ? window.left / 2 : window.left;
      const top = plane.half ? window.top / 2 + (window.scale - 1) / 4 : window.top;
      this.fillColumns(plane, left, window.scale);
      this.fillRows(plane, top, window.scale);
      this.kernel.warp(
        this.src + plane.offset, plane.width,
        area + plane.offset, plane.width, plane.height,
        plane.cols, plane.groups, plane.rows, plane.bufA, plane.bufB,
      );
    }
    return this.outputs[n % 2]!;
  }

  /** Per group of 8 output columns: the first source column and the swizzle masks and weights. */
  private fillColumns(plane: Plane, left: number, scale: number): void {
    const { bytes, view } = this;
    const last = plane.width - 1;
    for (let g = 0; g < plane.groups; g++) {
      const at = plane.cols + g * 64;
      const first = sampleIndex(left + g * 8 * scale, last);
      view.setInt32(at, first, true);
      bytes.fill(0xff, at + 16, at + 48);
      for (let k = 0; k < 8; k++) {
        // Columns past the plane's edge (its width is not a multiple of 8) repeat the last one.
        const position = left + Math.min(g * 8 + k, last) * scale;
        const index = sampleIndex(position, last);
        const rel = index - first;
        if (rel < 0 || rel + 1 > 15) throw new ReelforgeError('internal', 'The motion zooms out past what the kernel samples.', { params: { scale } });
        bytes[at + 16 + k] = rel;
        bytes[at + 32 + k] = rel + 1;
        view.setInt16(at + 48 + 2 * k, sampleWeight(position, index, last), true);
      }
    }
  }

  private fillRows(plane: Plane, top: number, scale: number): void {
    const { view } = this;
    const last = plane.height - 1;
    for (let y = 0; y < plane.height; y++) {
      const position = top + y * scale;
      const index = sampleIndex(position, last);
      view.setInt32(plane.rows + y * 8, index, true);
      view.setInt32(plane.rows + y * 8 + 4, sampleWeight(position, index, last), true);
    }
  }
}

/**
 * The source sample (left or upper neighbour) for a position, clamped to the plane; the last
 * pixel is reached as its neighbour's right side, since the kernel always reads index + 1.
 */
function sampleIndex(position: number, last: number): number {
  const at = clamp(position, 0, last);
  return Math.min(Math.floor(at), last - 1);
}

/** The weight of sample index + 1 for a position, in Q15. */
function sampleWeight(position: number, index: number, last: number): number {
  const fraction = clamp(position, 0, last) - index;
  return Math.min(Q15_ONE, Math.round(fraction * 32_768));
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Number.isFinite(value) ? value : min));
}
