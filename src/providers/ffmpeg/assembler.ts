/**
 * The `VideoAssembler` port on ffmpeg. Each segment is one still picture turned into an H.264 clip
 * (smooth Ken Burns motion, burned-in captions, fades); `finish` joins the clips without
 * re-encoding and builds the sound (voice over ducked music, loudness-normalised) in one run.
 *
 * Motion uses the method RESEARCH.md measured smoothest and fastest: the picture is scaled once
 * to cover the frame, looped, and moved with `perspective` evaluated per frame, which samples at
 * sub-pixel positions (zoompan crops whole pixels and judders unless fed a huge upscale).
 */
import { copyFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import PQueue from 'p-queue';
import { ReelforgeError, toReelforgeError } from '../../core/errors.js';
import type {
  FinishInput,
  FinishedVideo,
  Motion,
  RenderedSegment,
  SegmentRenderInput,
  VideoAssembler,
} from '../../pipeline/ports.js';
import { buildAss } from './ass.js';
import { probe, probeDurationSec } from './probe.js';
import { runFfmpeg } from './run-ffmpeg.js';

export interface FfmpegAssemblerOptions {
  /** ffmpeg renders at once across every job using this assembler (one per process). */
  renderConcurrency: number;
  /** A folder of fonts for libass besides the system's (fontconfig finds DejaVu on its own). */
  tmpFontsDir?: string;
}

export const DEFAULT_CRF = 23;
export const AUDIO_SAMPLE_RATE = 48_000;
/** Final loudness, as the big platforms normalise to it anyway. */
export const TARGET_LUFS = -14;
/** Voice and music levels before the final loudnorm: music sits 8 LU under the voice, and the
 * ducking takes it ~12 dB further down while someone speaks (about 20 dB under the voice). */
const VOICE_LUFS = -16;
const MUSIC_LUFS = -24;
/** Lowest video bitrate worth sending; below it a re-encode is mush. */
export const MIN_VIDEO_BPS = 150_000;

export class FfmpegAssembler implements VideoAssembler {
  private readonly pool: PQueue;
  private readonly fontsDir: string | undefined;

  constructor(options: FfmpegAssemblerOptions) {
    this.pool = new PQueue({ concurrency: Math.max(1, Math.floor(options.renderConcurrency)) });
    this.fontsDir = options.tmpFontsDir;
  }

  /** Renders waiting for a free slot / running now (for status pages). */
  get load(): { waiting: number; running: number } {
    return { waiting: this.pool.size, running: this.pool.pending };
  }

  renderSegment(input: SegmentRenderInput, signal?: AbortSignal): Promise<RenderedSegment> {
    return this.inPool(() => renderSegment(input, { signal, fontsDir: this.fontsDir }), signal);
  }

  finish(input: FinishInput, signal?: AbortSignal): Promise<FinishedVideo> {
    return this.inPool(() => finishVideo(input, signal), signal);
  }

  probeDurationSec(path: string, signal?: AbortSignal): Promise<number> {
    return probeDurationSec(path, signal);
  }

  /** `fitToSize` through the shared render pool. */
  fitToSize(inPath: string, outPath: string, maxBytes: number, signal?: AbortSignal): Promise<FinishedVideo> {
    return this.inPool(() => fitToSize(inPath, outPath, maxBytes, signal), signal);
  }

  /** Resolves when no render runs or waits (graceful shutdown). */
  async drained(): Promise<void> {
    await this.pool.onIdle();
  }

  /**
   * Runs `task` when a slot is free. A job cancelled while waiting leaves at once; a running one
   * rejects only after its ffmpeg has exited and its files are removed (p-queue's own `signal`
   * would reject while ffmpeg still runs, so it is not used).
   */
  private inPool<T>(task: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (signal?.aborted) return Promise.reject(cancelled(signal));
    return new Promise<T>((resolve, reject) => {
      const onAbortWhileWaiting = (): void => reject(cancelled(signal));
      signal?.addEventListener('abort', onAbortWhileWaiting, { once: true });
      void this.pool.add(async () => {
        signal?.removeEventListener('abort', onAbortWhileWaiting);
        // Cancelled while waiting: already rejected, so the slot is handed straight on.
        if (signal?.aborted) return;
        try {
          resolve(await task());
        } catch (error) {
          reject(error instanceof ReelforgeError ? error : toReelforgeError(error));
        }
      });
    });
  }
}

function cancelled(signal: AbortSignal | undefined): ReelforgeError {
  const reason: unknown = signal?.reason;
  return reason instanceof ReelforgeError && reason.code === 'cancelled'
    ? reason
    : new ReelforgeError('cancelled', 'The job was cancelled.', { cause: reason });
}

// ---------------------------------------------------------------- segments

/** Encoder settings shared by every segment, so `finish` can join them with `-c copy`. */
export function segmentEncoderArgs(input: { x264Preset: string; fps: number; width: number; height: number }): string[] {
  const { fps } = input;
  const gop = Math.round(fps * 2);
  // A VBV cap keeps busy pictures (noise, foliage) from blowing up the file size; ~5 Mbit/s at 1080x1920x30.
  const maxrate = Math.round(input.width * input.height * fps * 0.085);
  const bframes = input.x264Preset === 'ultrafast' ? 0 : 2;
  return [
    '-c:v', 'libx264',
    '-preset', input.x264Preset,
    '-crf', String(DEFAULT_CRF),
    '-maxrate', String(maxrate),
    '-bufsize', String(maxrate * 2),
    '-pix_fmt', 'yuv420p',
    '-profile:v', 'high',
    '-r', String(fps),
    '-g', String(gop),
    '-keyint_min', String(gop),
    '-sc_threshold', '0',
    '-bf', String(bframes),
    '-x264-params', `keyint=${gop}:min-keyint=${gop}:scenecut=0:bframes=${bframes}:open-gop=0:colorprim=bt709:transfer=bt709:colormatrix=bt709`,
    '-video_track_timescale', String(Math.round(fps * 1000)),
  ];
}

export async function renderSegment(
  input: SegmentRenderInput,
  options: { signal?: AbortSignal; fontsDir?: string; onProgress?: (sec: number) => void } = {},
): Promise<RenderedSegment> {
  const { width, height, fps } = input;
  if (width % 2 !== 0 || height % 2 !== 0 || width <= 0 || height <= 0) {
    throw new ReelforgeError('internal', 'The video size must be even.', { params: { width, height } });
  }
  const frames = Math.max(1, Math.round(input.durationSec * fps));
  const durationSec = frames / fps;
  const outPath = resolve(input.outPath);
  const partPath = `${outPath}.part`;
  const assPath = join(dirname(outPath), `${basename(outPath)}.ass`);

  const filters = [
    // Cover-crop once to the frame; every later filter works on one small still frame.
    `scale=${width}:${height}:force_original_aspect_ratio=increase:flags=lanczos`,
    `crop=${width}:${height}`,
    'setsar=1',
    'format=yuv420p',
    'loop=loop=-1:size=1:start=0',
    `setpts=N/(${fps}*TB)`,
    kenBurnsFilter(input.motion, frames),
  ];
  const cues = input.cues.filter((cue) => cue.text.trim() !== '' && cue.startSec < durationSec && cue.endSec > 0);
  if (cues.length > 0) {
    await writeFile(assPath, buildAss(cues, { width, height }), 'utf8');
    const fonts = options.fontsDir ? `:fontsdir=${escapeFilterValue(resolve(options.fontsDir))}` : '';
    filters.push(`subtitles=filename=${escapeFilterValue(assPath)}${fonts}`);
  }
  const fadeIn = Math.min(input.fadeInSec, durationSec / 2);
  const fadeOut = Math.min(input.fadeOutSec, durationSec / 2);
  if (fadeIn > 0) filters.push(`fade=t=in:st=0:d=${num(fadeIn)}`);
  if (fadeOut > 0) filters.push(`fade=t=out:st=${num(durationSec - fadeOut)}:d=${num(fadeOut)}`);
  filters.push('format=yuv420p');

  const args = [
    '-y',
    // Forced image2 with no pattern: a `%` in a path must not turn it into a numbered sequence.
    '-f', 'image2', '-pattern_type', 'none',
    '-framerate', String(fps),
    '-i', resolve(input.imagePath),
    '-filter_complex', `[0:v]${filters.join(',')}[v]`,
    '-map', '[v]',
    '-frames:v', String(frames),
    ...segmentEncoderArgs(input),
    '-an',
    '-f', 'mp4',
    partPath,
  ];
  try {
    await runFfmpeg(args, { signal: options.signal, onProgress: options.onProgress });
    await rename(partPath, outPath);
  } finally {
    await rm(partPath, { force: true });
    await rm(assPath, { force: true });
  }
  return { index: input.index, path: outPath, durationSec };
}

/**
 * The four source corners of the visible window, as per-frame expressions of the output frame
 * number `on`. Zoom changes geometrically (constant apparent speed); the pan moves the window's
 * centre across the free margin linearly.
 */
export function kenBurnsFilter(motion: Motion, frames: number): string {
  const zf = clamp(motion.zoomFrom, 1, 4);
  const zt = clamp(motion.zoomTo, 1, 4);
  const last = Math.max(1, frames - 1);
  const p = `(on/${last})`;
  const z = zf === zt ? num(zf) : `(${num(zf)}*exp(${num(Math.log(zt / zf))}*${p}))`;
  const pan = (from: number, to: number): string => {
    const a = clamp(from, -1, 1);
    const b = clamp(to, -1, 1);
    return a === b ? num(a) : `(${num(a)}+${num(b - a)}*${p})`;
  };
  const px = pan(motion.panFrom.x, motion.panTo.x);
  const py = pan(motion.panFrom.y, motion.panTo.y);
  // centre = W/2 * (1 + pan * (1 - 1/z)); half window = W/2 / z.
  const cx = `(W/2*(1+${px}*(1-1/${z})))`;
  const cy = `(H/2*(1+${py}*(1-1/${z})))`;
  const hw = `(W/2/${z})`;
  const hh = `(H/2/${z})`;
  const corners = {
    x0: `${cx}-${hw}`, y0: `${cy}-${hh}`,
    x1: `${cx}+${hw}`, y1: `${cy}-${hh}`,
    x2: `${cx}-${hw}`, y2: `${cy}+${hh}`,
    x3: `${cx}+${hw}`, y3: `${cy}+${hh}`,
  };
  const coords = Object.entries(corners).map(([k, v]) => `${k}=${v}`).join(':');
  return `perspective=${coords}:interpolation=linear:sense=source:eval=frame`;
}

// ---------------------------------------------------------------- finish

export async function finishVideo(input: FinishInput, signal?: AbortSignal): Promise<FinishedVideo> {
  if (input.segments.length === 0) throw new ReelforgeError('internal', 'No segments to join.');
  const outPath = resolve(input.outPath);
  const partPath = `${outPath}.part`;
  const listPath = `${outPath}.concat.txt`;
  const D = input.durationSec;

  const segments = [...input.segments].sort((a, b) => a.index - b.index);
  const list = ['ffconcat version 1.0', ...segments.map((s) => `file '${resolve(s.path).replace(/'/g, "'\\''")}'`)];

  const inputs: string[] = ['-f', 'concat', '-safe', '0', '-i', listPath];
  const graph: string[] = [];
  const fmt = `aformat=sample_fmts=fltp:sample_rates=${AUDIO_SAMPLE_RATE}:channel_layouts=stereo`;

  // Voice: every clip at its offset, mixed (not normalised: clips rarely overlap), padded to D.
  const voices = input.voice.filter((v) => v.offsetSec < D);
  if (voices.length > 0) {
    const labels = voices.map((clip, i) => {
      inputs.push('-i', resolve(clip.path));
      const delayMs = Math.max(0, Math.round(clip.offsetSec * 1000));
      graph.push(`[${i + 1}:a]${fmt},adelay=delays=${delayMs}:all=1[v${i}]`);
      return `[v${i}]`;
    });
    const mixed = voices.length === 1 ? '' : `amix=inputs=${voices.length}:normalize=0:duration=longest:dropout_transition=0,`;
    graph.push(
      `${labels.join('')}${mixed}loudnorm=I=${VOICE_LUFS}:TP=-2:LRA=11,${fmt},apad=whole_dur=${num(D)},atrim=duration=${num(D)},asplit=2[voice][sc]`,
    );
  } else {
    graph.push(`anullsrc=r=${AUDIO_SAMPLE_RATE}:cl=stereo,atrim=duration=${num(D)},asplit=2[voice][sc]`);
  }

  // Music: looped to cover D, levelled, then ducked whenever the voice is present.
  if (input.musicPath !== '') {
    const musicIndex = voices.length + 1;
    inputs.push('-stream_loop', '-1', '-i', resolve(input.musicPath));
    graph.push(
      `[${musicIndex}:a]${fmt},atrim=duration=${num(D)},asetpts=N/SR/TB,loudnorm=I=${MUSIC_LUFS}:TP=-4:LRA=7,${fmt},apad=whole_dur=${num(D)}[music]`,
      // RMS detection on the voice; threshold about -34 dBFS and ratio 8 give ~12 dB of ducking
      // at speech level, with a release slow enough not to pump between words.
      '[music][sc]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400:makeup=1[ducked]',
      '[voice][ducked]amix=inputs=2:normalize=0:duration=first:dropout_transition=0[mix]',
    );
  } else {
    graph.push('[sc]anullsink', '[voice]anull[mix]');
  }

  const fadeIn = Math.min(0.5, D / 4);
  const fadeOut = Math.min(1.5, D / 3);
  graph.push(
    `[mix]loudnorm=I=${TARGET_LUFS}:TP=-1.5:LRA=11,${fmt},afade=t=in:st=0:d=${num(fadeIn)},afade=t=out:st=${num(D - fadeOut)}:d=${num(fadeOut)},atrim=duration=${num(D)}[aout]`,
  );

  const args = [
    '-y',
    ...inputs,
    '-filter_complex', graph.join(';'),
    '-map', '0:v:0',
    '-map', '[aout]',
    '-c:v', 'copy',
    '-c:a', 'aac', '-b:a', '160k', '-ar', String(AUDIO_SAMPLE_RATE), '-ac', '2',
    '-t', num(D),
    '-shortest',
    '-movflags', '+faststart',
    '-metadata', `title=${input.title.replace(/[\r\n]+/g, ' ').slice(0, 200)}`,
    '-f', 'mp4',
    partPath,
  ];
  try {
    await writeFile(listPath, `${list.join('\n')}\n`, 'utf8');
    await runFfmpeg(args, { signal });
    await rename(partPath, outPath);
  } finally {
    await rm(partPath, { force: true });
    await rm(listPath, { force: true });
  }
  return describeVideo(outPath, signal);
}

export async function describeVideo(path: string, signal?: AbortSignal): Promise<FinishedVideo> {
  const info = await probe(path, signal);
  const video = info.streams.find((s) => s.codec_type === 'video');
  return {
    path,
    durationSec: info.durationSec,
    width: video?.width ?? 0,
    height: video?.height ?? 0,
    sizeBytes: info.sizeBytes,
  };
}

// ---------------------------------------------------------------- delivery helpers

/**
 * A JPEG preview for chat uploads. Telegram wants thumbnails within 320x320, so the frame is
 * fitted into that box (a vertical 1080x1920 video gives 180x320).
 */
export async function extractThumbnail(
  videoPath: string,
  outJpg: string,
  atSec: number,
  signal?: AbortSignal,
): Promise<{ path: string; width: number; height: number }> {
  const duration = await probeDurationSec(videoPath, signal);
  const at = clamp(atSec, 0, Math.max(0, duration - 0.1));
  await runFfmpeg(
    [
      '-y',
      '-ss', num(at),
      '-i', resolve(videoPath),
      '-frames:v', '1',
      '-vf', 'scale=w=320:h=320:force_original_aspect_ratio=decrease:flags=bicubic,setsar=1',
      '-q:v', '4',
      '-f', 'image2', '-update', '1',
      resolve(outJpg),
    ],
    { signal },
  );
  const info = await probe(outJpg, signal);
  const image = info.streams[0];
  return { path: outJpg, width: image?.width ?? 0, height: image?.height ?? 0 };
}

/**
 * Re-encodes a video to land under `maxBytes` in one pass: the video bitrate is computed from the
 * duration with a ~5% margin and held by a VBV cap, the picture is downscaled when the bitrate is
 * too low for full size, and audio drops to 96-128 kbit/s. `too_large` when the video would need
 * less than 150 kbit/s.
 */
export async function fitToSize(inPath: string, outPath: string, maxBytes: number, signal?: AbortSignal): Promise<FinishedVideo> {
  const info = await probe(inPath, signal);
  if (info.sizeBytes > 0 && info.sizeBytes <= maxBytes) {
    if (resolve(inPath) !== resolve(outPath)) await copyFile(inPath, outPath);
    return describeVideo(outPath, signal);
  }
  const video = info.streams.find((s) => s.codec_type === 'video');
  const hasAudio = info.streams.some((s) => s.codec_type === 'audio');
  const D = info.durationSec;
  if (!video?.width || !video.height || !(D > 0)) {
    throw new ReelforgeError('render_failed', 'Could not read the video to make it smaller.');
  }

  for (const margin of [0.95, 0.85]) {
    // The muxer needs ~1% plus a little; the VBV buffer may overshoot by one buffer (1 s).
    const budgetBits = maxBytes * 8 * margin * 0.99 - 16_000 * 8;
    const totalBps = budgetBits / (D + 1);
    const audioBps = hasAudio ? (totalBps >= 1_000_000 ? 128_000 : 96_000) : 0;
    const videoBps = Math.floor(totalBps - audioBps);
    if (videoBps < MIN_VIDEO_BPS) {
      throw new ReelforgeError('too_large', 'The video is too long to fit the upload limit.', {
        params: { maxMb: Math.round((maxBytes / 1_048_576) * 10) / 10 },
      });
    }
    const fps = video.fps ?? 30;
    const size = fitSizeForBitrate(video.width, video.height, videoBps, fps);
    const partPath = `${resolve(outPath)}.part`;
    try {
      await runFfmpeg(
        [
          '-y',
          '-i', resolve(inPath),
          '-map', '0:v:0', '-map', '0:a:0?',
          '-vf', `scale=${size.width}:${size.height}:flags=bicubic,setsar=1`,
          '-c:v', 'libx264', '-preset', 'veryfast',
          '-b:v', String(videoBps), '-maxrate', String(videoBps), '-bufsize', String(videoBps),
          '-pix_fmt', 'yuv420p', '-g', String(Math.round(fps * 2)),
          ...(hasAudio ? ['-c:a', 'aac', '-b:a', String(audioBps), '-ar', String(AUDIO_SAMPLE_RATE), '-ac', '2'] : []),
          '-map_metadata', '0',
          '-movflags', '+faststart',
          '-f', 'mp4',
          partPath,
        ],
        { signal },
      );
      await rename(partPath, outPath);
    } finally {
      await rm(partPath, { force: true });
    }
    const result = await describeVideo(resolve(outPath), signal);
    if (result.sizeBytes <= maxBytes) return result;
  }
  await rm(outPath, { force: true });
  throw new ReelforgeError('too_large', 'The video could not be made small enough for the upload limit.', {
    params: { maxMb: Math.round((maxBytes / 1_048_576) * 10) / 10 },
  });
}

/** Below ~0.05 bits per pixel x264 smears; a smaller frame at the same bitrate looks better. */
function fitSizeForBitrate(width: number, height: number, bps: number, fps: number): { width: number; height: number } {
  let scale = 1;
  while (scale > 0.34 && bps / (width * scale * height * scale * fps) < 0.05) scale -= 1 / 6;
  const even = (v: number): number => Math.max(2, Math.round(v / 2) * 2);
  return { width: even(width * scale), height: even(height * scale) };
}

// ---------------------------------------------------------------- small helpers

/**
 * Escapes a value (a path) for a filter option inside a filter graph: ffmpeg unescapes twice,
 * once for the graph (`\ ' [ ] , ;`) and once for the option list (`\ ' :`).
 */
export function escapeFilterValue(value: string): string {
  const option = value.replace(/[\\':]/g, (c) => `\\${c}`);
  return option.replace(/[\\'[\],;]/g, (c) => `\\${c}`);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Number.isFinite(value) ? value : min));
}

/** A plain decimal (ffmpeg expressions and options; never exponent notation). */
function num(value: number): string {
  const fixed = value.toFixed(6);
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}
