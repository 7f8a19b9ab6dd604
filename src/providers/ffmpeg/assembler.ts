/**
 * The `VideoAssembler` port on ffmpeg. Each segment is one still picture turned into an H.264 clip
 * (smooth Ken Burns motion, burned-in captions, fades); `mixAudio` builds the sound track (voice
 * over ducked music, loudness-normalised) while the last clips render; `finish` joins clips and
 * sound track without re-encoding either.
 *
 * Motion: the picture is decoded once, scaled to cover the frame (lanczos), and moved in this
 * process by a WebAssembly SIMD kernel with sub-pixel bilinear sampling (motion/ken-burns.ts):
 * about 1 ms a 1080x1920 frame, where ffmpeg's `perspective` filter (smooth to within 0.05 px, the
 * best of the filters we measured) took 13-20 ms and `zoompan` judders unless fed a huge upscale. The raw frames go to
 * ffmpeg's stdin, which burns in the captions, fades and encodes; x264 is then most of the work.
 * The numbers are in README.md, "Performance".
 */
import { copyFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import PQueue from 'p-queue';
import { ReelforgeError, toReelforgeError, cancelledBy, tooLarge } from '../../core/errors.js';
import type {
  AudioMixInput,
  FinishInput,
  FinishedVideo,
  MixedAudio,
  RenderedSegment,
  RetimeInput,
  SegmentRenderInput,
  Thumbnail,
  VideoAssembler,
  VoiceClip,
} from '../../pipeline/ports.js';
import { buildAss } from './ass.js';
import { AUDIO_BPS, MIN_VIDEO_BPS, videoBitrateFor } from './bitrate.js';
import { KenBurnsFrames } from './motion/ken-burns.js';
import { probe, probeDurationSec } from './probe.js';
import { runFfmpeg } from './run-ffmpeg.js';

export interface FfmpegAssemblerOptions {
  /** ffmpeg renders at once across every job using this assembler (one per process). */
  renderConcurrency: number;
  /** A folder of fonts for libass besides the system's (fontconfig finds DejaVu on its own). */
  tmpFontsDir?: string;
  /** Told how long each render waited for a pool slot and then ran (logs, benchmarks). */
  onTiming?: (timing: RenderTiming) => void;
}

export interface RenderTiming {
  kind: 'segment' | 'audio' | 'finish' | 'fit';
  /** The segment's index; -1 for the others. */
  index: number;
  waitedMs: number;
  ranMs: number;
}

export const DEFAULT_CRF = 23;
export const AUDIO_SAMPLE_RATE = 48_000;
/** Final loudness, as the big platforms normalise to it anyway. */
export const TARGET_LUFS = -14;
/** Voice and music levels before the final gain: music sits 8 LU under the voice, and the
 * ducking takes it ~12 dB further down while someone speaks (about 20 dB under the voice). */
const VOICE_LUFS = -16;
const MUSIC_LUFS = -24;
/** p-queue priority (higher first) of the steps that end a job: the sound track and the join. */
const FIRST_IN_LINE = 1;

export class FfmpegAssembler implements VideoAssembler {
  private readonly pool: PQueue;
  private readonly fontsDir: string | undefined;
  private readonly onTiming: FfmpegAssemblerOptions['onTiming'];

  constructor(options: FfmpegAssemblerOptions) {
    this.pool = new PQueue({ concurrency: Math.max(1, Math.floor(options.renderConcurrency)) });
    this.fontsDir = options.tmpFontsDir;
    this.onTiming = options.onTiming;
  }

  /** Renders waiting for a free slot / running now (for status pages). */
  get load(): { waiting: number; running: number } {
    return { waiting: this.pool.size, running: this.pool.pending };
  }

  renderSegment(input: SegmentRenderInput, signal?: AbortSignal): Promise<RenderedSegment> {
    return this.inPool(
      // Renders side by side run x264 with one thread each: on two cores that took 5-10% less wall
      // time than letting each start three frame threads; a render alone takes them all.
      (slot) => renderSegment(input, { signal, fontsDir: this.fontsDir, ...(slot.alone ? {} : { encoderThreads: 1 }) }),
      signal,
      { kind: 'segment', index: input.index },
    );
  }

  /** Ahead of waiting segment renders in the pool: the job that asks for it is nearly done. */
  mixAudio(input: AudioMixInput, signal?: AbortSignal): Promise<MixedAudio> {
    return this.inPool(() => mixAudio(input, signal), signal, { kind: 'audio', index: -1 }, FIRST_IN_LINE);
  }

  finish(input: FinishInput, signal?: AbortSignal): Promise<FinishedVideo> {
    return this.inPool(() => finishVideo(input, signal), signal, { kind: 'finish', index: -1 }, FIRST_IN_LINE);
  }

  probeDurationSec(path: string, signal?: AbortSignal): Promise<number> {
    return probeDurationSec(path, signal);
  }

  thumbnail(videoPath: string, outPath: string, atSec: number, signal?: AbortSignal): Promise<Thumbnail> {
    return extractThumbnail(videoPath, outPath, atSec, signal);
  }

  /** atempo keeps the pitch; 16-bit mono WAV out, at the input's rate. */
  async retimeVoice(input: RetimeInput, signal?: AbortSignal): Promise<number> {
    const factor = Math.min(2, Math.max(0.5, input.factor));
    await runFfmpeg(['-y', '-i', input.path, '-af', `atempo=${factor.toFixed(4)}`, '-ac', '1', '-c:a', 'pcm_s16le', input.outPath], signal ? { signal } : {});
    return probeDurationSec(input.outPath, signal);
  }

  /** `fitToSize` through the shared render pool. */
  fitToSize(inPath: string, outPath: string, maxBytes: number, signal?: AbortSignal): Promise<FinishedVideo> {
    return this.inPool(() => fitToSize(inPath, outPath, maxBytes, signal), signal, { kind: 'fit', index: -1 });
  }

  /** Resolves when no render runs or waits (graceful shutdown). */
  async drained(): Promise<void> {
    await this.pool.onIdle();
  }

  private report(what: Pick<RenderTiming, 'kind' | 'index'>, queuedAt: number, startedAt: number): void {
    try {
      this.onTiming?.({ ...what, waitedMs: Math.round(startedAt - queuedAt), ranMs: Math.round(performance.now() - startedAt) });
    } catch {
      // A broken observer must not fail the render.
    }
  }

  /**
   * Runs `task` when a slot is free. A job cancelled while waiting leaves at once; a running one
   * rejects only after its ffmpeg has exited and its files are removed (p-queue's own `signal`
   * would reject while ffmpeg still runs, so it is not used).
   */
  private inPool<T>(
    task: (slot: { alone: boolean }) => Promise<T>,
    signal: AbortSignal | undefined,
    what: Pick<RenderTiming, 'kind' | 'index'>,
    priority = 0,
  ): Promise<T> {
    if (signal?.aborted) return Promise.reject(cancelledBy(signal));
    const queuedAt = performance.now();
    return new Promise<T>((resolve, reject) => {
      const onAbortWhileWaiting = (): void => reject(cancelledBy(signal));
      signal?.addEventListener('abort', onAbortWhileWaiting, { once: true });
      void this.pool.add(async () => {
        signal?.removeEventListener('abort', onAbortWhileWaiting);
        // Cancelled while waiting: already rejected, so the slot is handed straight on.
        if (signal?.aborted) return;
        const startedAt = performance.now();
        try {
          // `pending` counts this task too.
          const result = await task({ alone: this.pool.pending <= 1 && this.pool.size === 0 });
          this.report(what, queuedAt, startedAt);
          resolve(result);
        } catch (error) {
          reject(error instanceof ReelforgeError ? error : toReelforgeError(error));
        }
      }, { priority });
    });
  }
}

// ---------------------------------------------------------------- segments

/** Encoder settings shared by every segment, so `finish` can join them with `-c copy`. */
export function segmentEncoderArgs(input: {
  x264Preset: string;
  fps: number;
  width: number;
  height: number;
  maxVideoBitrate?: number | undefined;
  sizeLimit?: SegmentRenderInput['sizeLimit'];
}): string[] {
  const { fps } = input;
  const gop = Math.round(fps * 2);
  // A VBV cap keeps busy pictures (noise, foliage) from blowing up the file size; ~5 Mbit/s at
  // 1080x1920x30, or less when the destination's upload limit asks for it (one encode, no re-encode).
  const fit = input.sizeLimit ? videoBitrateFor(input.sizeLimit.maxBytes, input.sizeLimit.durationSec) : Infinity;
  const maxrate = Math.round(Math.min(input.width * input.height * fps * 0.085, input.maxVideoBitrate ?? Infinity, fit));
  const bframes = input.x264Preset === 'ultrafast' ? 0 : 2;
  // veryfast with superfast's motion search (diamond, one sub-pixel pass): ~30% less x264 time on
  // Ken Burns clips at the same size and SSIM; smooth zooms need no wider search.
  const search = input.x264Preset === 'veryfast' ? 'me=dia:subme=1:' : '';
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
    '-x264-params', `${search}keyint=${gop}:min-keyint=${gop}:scenecut=0:bframes=${bframes}:open-gop=0:colorprim=bt709:transfer=bt709:colormatrix=bt709`,
    '-video_track_timescale', String(Math.round(fps * 1000)),
  ];
}

export async function renderSegment(
  input: SegmentRenderInput,
  options: { signal?: AbortSignal; fontsDir?: string; onProgress?: (sec: number) => void; encoderThreads?: number } = {},
): Promise<RenderedSegment> {
  const { width, height, fps } = input;
  const { signal } = options;
  if (width % 2 !== 0 || height % 2 !== 0 || width < 4 || height < 4) {
    throw new ReelforgeError('internal', 'The video size must be even.', { params: { width, height } });
  }
  const frames = Math.max(1, Math.round(input.durationSec * fps));
  const durationSec = frames / fps;
  const outPath = resolve(input.outPath);
  const partPath = `${outPath}.part`;
  const assPath = join(dirname(outPath), `${basename(outPath)}.ass`);

  // The picture, cover-scaled once (lanczos) to the video's size, as raw yuv420p.
  const still = await decodeStill(resolve(input.imagePath), width, height, signal);
  const motion = await KenBurnsFrames.create(still, width, height, input.motion, frames);

  const filters = ['setsar=1'];
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
    // The moving frames, made in this process (motion/ken-burns.ts).
    '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-video_size', `${width}x${height}`, '-framerate', String(fps),
    '-i', 'pipe:0',
    '-filter_complex', `[0:v]${filters.join(',')}[v]`,
    '-map', '[v]',
    '-frames:v', String(frames),
    ...segmentEncoderArgs(input),
    ...(options.encoderThreads ? ['-threads', String(options.encoderThreads)] : []),
    '-an',
    '-f', 'mp4',
    partPath,
  ];
  try {
    await runFfmpeg(args, { signal, onProgress: options.onProgress, stdin: (stdin) => writeFrames(stdin, motion, frames, signal) });
    await rename(partPath, outPath);
  } finally {
    await rm(partPath, { force: true });
    await rm(assPath, { force: true });
  }
  return { index: input.index, path: outPath, durationSec };
}

/** A picture as one raw yuv420p frame of exactly `width` x `height`: scaled to cover, centre-cropped. */
async function decodeStill(imagePath: string, width: number, height: number, signal?: AbortSignal): Promise<Buffer> {
  const { stdout } = await runFfmpeg(
    [
      // Forced image2 with no pattern: a `%` in a path must not turn it into a numbered sequence.
      '-f', 'image2', '-pattern_type', 'none',
      '-i', imagePath,
      '-frames:v', '1',
      '-vf', `scale=${width}:${height}:force_original_aspect_ratio=increase:flags=lanczos,crop=${width}:${height},setsar=1,format=yuv420p`,
      '-f', 'rawvideo', '-pix_fmt', 'yuv420p',
      'pipe:1',
    ],
    { signal, captureStdout: true },
  );
  if (stdout.length !== (width * height * 3) / 2) {
    throw new ReelforgeError('render_failed', 'Could not read the picture.', { params: { bytes: stdout.length } });
  }
  return stdout;
}

/**
 * Writes the frames one after another; frame n + 1 is made while frame n is still being written,
 * and no more than that is in flight (KenBurnsFrames keeps two frames).
 */
async function writeFrames(stdin: Writable, motion: KenBurnsFrames, frames: number, signal?: AbortSignal): Promise<void> {
  let previous: Promise<void> = Promise.resolve();
  for (let n = 0; n < frames; n++) {
    if (signal?.aborted) return;
    const frame = motion.render(n);
    const written = new Promise<void>((resolve, reject) => {
      stdin.write(frame, (error) => (error ? reject(error) : resolve()));
    });
    // Awaited below (or on the next turn); a failed write must never go unhandled meanwhile.
    written.catch(() => undefined);
    // Frame n + 1 goes into the area frame n - 1 used: that write must be done.
    await previous;
    previous = written;
  }
  await previous;
}

// ---------------------------------------------------------------- finish

/**
 * The sound track as AAC in an .m4a: every voice clip at its offset, the music looped, levelled
 * and ducked under the voice, then lifted to the target loudness with a limiter on the peaks.
 */
export async function mixAudio(input: AudioMixInput, signal?: AbortSignal): Promise<MixedAudio> {
  const outPath = resolve(input.outPath);
  const partPath = `${outPath}.part`;
  const D = input.durationSec;
  if (!(D > 0)) throw new ReelforgeError('internal', 'The sound track needs a length.', { params: { durationSec: D } });

  // Loudness is measured first (voice track and music bed in parallel, ~0.3 s each) and applied
  // as plain gains: single-pass loudnorm resamples to 192 kHz and cost ~6 of the ~9 s this step
  // took for 60 s; the measured gains land within about 1 LU of it.
  const voices = input.voice.filter((v) => v.offsetSec < D);
  const hasMusic = input.musicPath !== '';
  const [voiceLufs, musicLufs] = await Promise.all([
    voices.length > 0 ? measureLoudness(voiceTrackInputs(voices), `${voiceTrackGraph(voices)}[voice]`, '[voice]', D, signal) : undefined,
    hasMusic ? measureLoudness(['-stream_loop', '-1', '-i', resolve(input.musicPath)], `[0:a]${AUDIO_FORMAT}[music]`, '[music]', D, signal) : undefined,
  ]);

  const inputs: string[] = [];
  const graph: string[] = [];

  // Voice: every clip at its offset, mixed (not normalised: clips rarely overlap), padded to D.
  if (voices.length > 0) {
    inputs.push(...voiceTrackInputs(voices));
    graph.push(
      `${voiceTrackGraph(voices)},volume=${num(gainDb(VOICE_LUFS, voiceLufs))}dB,apad=whole_dur=${num(D)},atrim=duration=${num(D)},asplit=2[voice][sc]`,
    );
  } else {
    graph.push(`anullsrc=r=${AUDIO_SAMPLE_RATE}:cl=stereo,atrim=duration=${num(D)},asplit=2[voice][sc]`);
  }

  // Music: looped to cover D, levelled, then ducked whenever the voice is present.
  if (hasMusic) {
    const musicIndex = voices.length;
    inputs.push('-stream_loop', '-1', '-i', resolve(input.musicPath));
    graph.push(
      `[${musicIndex}:a]${AUDIO_FORMAT},atrim=duration=${num(D)},asetpts=N/SR/TB,volume=${num(gainDb(MUSIC_LUFS, musicLufs))}dB,apad=whole_dur=${num(D)}[music]`,
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
  // The ducked music adds little under the voice, so the mix sits near the voice's level: one gain
  // lifts it to the target and a limiter keeps the peaks under -1.5 dBFS.
  graph.push(
    `[mix]volume=${num(TARGET_LUFS - VOICE_LUFS)}dB,alimiter=limit=${num(10 ** (PEAK_DBFS / 20))}:attack=5:release=50:level=0,${AUDIO_FORMAT},` +
      `afade=t=in:st=0:d=${num(fadeIn)},afade=t=out:st=${num(D - fadeOut)}:d=${num(fadeOut)},atrim=duration=${num(D)}[aout]`,
  );

  const args = [
    '-y',
    ...inputs,
    '-filter_complex', graph.join(';'),
    '-map', '[aout]',
    // The fast AAC coder: a third of the default's time, transparent at 160 kbit/s for voice and music.
    '-c:a', 'aac', '-aac_coder', 'fast', '-b:a', String(AUDIO_BPS), '-ar', String(AUDIO_SAMPLE_RATE), '-ac', '2',
    '-t', num(D),
    '-f', 'ipod',
    partPath,
  ];
  try {
    await runFfmpeg(args, { signal });
    await rename(partPath, outPath);
  } finally {
    await rm(partPath, { force: true });
  }
  return { path: outPath, durationSec: D };
}

/** The segments joined with `-c copy` and the sound track copied in: no re-encoding at all. */
export async function finishVideo(input: FinishInput, signal?: AbortSignal): Promise<FinishedVideo> {
  if (input.segments.length === 0) throw new ReelforgeError('internal', 'No segments to join.');
  const outPath = resolve(input.outPath);
  const partPath = `${outPath}.part`;
  const listPath = `${outPath}.concat.txt`;
  const segments = [...input.segments].sort((a, b) => a.index - b.index);
  const list = ['ffconcat version 1.0', ...segments.map((s) => `file '${resolve(s.path).replace(/'/g, "'\\''")}'`)];
  const args = [
    '-y',
    '-f', 'concat', '-safe', '0', '-i', listPath,
    '-i', resolve(input.audio.path),
    '-map', '0:v:0',
    '-map', '1:a:0',
    '-c', 'copy',
    '-t', num(input.durationSec),
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

const AUDIO_FORMAT = `aformat=sample_fmts=fltp:sample_rates=${AUDIO_SAMPLE_RATE}:channel_layouts=stereo`;
/** Sample peak ceiling of the final mix. */
const PEAK_DBFS = -1.5;
/** Gains are bounded: a near-silent track is not blown up into noise. */
const MAX_GAIN_DB = 30;

function voiceTrackInputs(voices: VoiceClip[]): string[] {
  return voices.flatMap((clip) => ['-i', resolve(clip.path)]);
}

/** The voice clips at their offsets (inputs 0..n-1), mixed into one stream. */
function voiceTrackGraph(voices: VoiceClip[]): string {
  const parts = voices.map((clip, i) => {
    const delayMs = Math.max(0, Math.round(clip.offsetSec * 1000));
    return `[${i}:a]${AUDIO_FORMAT},adelay=delays=${delayMs}:all=1[v${i}]`;
  });
  const labels = voices.map((_, i) => `[v${i}]`).join('');
  const mixed = voices.length === 1 ? `${labels}anull` : `${labels}amix=inputs=${voices.length}:normalize=0:duration=longest:dropout_transition=0`;
  return `${parts.join(';')};${mixed}`;
}

/**
 * Integrated loudness (EBU R128, LUFS) of the first `durationSec` of a filter graph's output
 * labelled `label`; undefined for silence.
 */
async function measureLoudness(inputs: string[], graph: string, label: string, durationSec: number, signal?: AbortSignal): Promise<number | undefined> {
  const { stderrTail } = await runFfmpeg(
    ['-nostats', ...inputs, '-filter_complex', `${graph};${label}atrim=duration=${num(durationSec)},ebur128=framelog=verbose:peak=none[out]`, '-map', '[out]', '-f', 'null', '-'],
    { signal, logLevel: 'info' },
  );
  const summary = stderrTail.join('\n');
  const at = summary.lastIndexOf('Integrated loudness:');
  const match = at >= 0 ? /I:\s+(-?[\d.]+) LUFS/.exec(summary.slice(at)) : null;
  const lufs = match?.[1] !== undefined ? Number(match[1]) : Number.NaN;
  return Number.isFinite(lufs) && lufs > -70 ? lufs : undefined;
}

function gainDb(target: number, measured: number | undefined): number {
  return measured === undefined ? 0 : clamp(target - measured, -MAX_GAIN_DB, MAX_GAIN_DB);
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
): Promise<Thumbnail> {
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
      throw tooLarge(info.sizeBytes, maxBytes, 'The video is too long to fit the upload limit.');
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
  throw tooLarge(info.sizeBytes, maxBytes, 'The video could not be made small enough for the upload limit.');
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
