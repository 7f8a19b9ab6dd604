/** ffprobe's JSON, parsed (never trusted) into the few fields reelforge uses. */
import { z } from 'zod';
import { ReelforgeError } from '../../core/errors.js';
import { runFfprobe } from './run-ffmpeg.js';

export interface ProbedStream {
  codec_type: string;
  codec_name?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  sample_rate?: number;
  channels?: number;
  /** Frames a second (video), from `avg_frame_rate` or `r_frame_rate`. */
  fps?: number;
  durationSec?: number;
}

export interface ProbeResult {
  durationSec: number;
  streams: ProbedStream[];
  sizeBytes: number;
  formatName: string;
  tags: Record<string, string>;
}

/** ffprobe prints numbers as strings ("48000", "12.345000") and "N/A" for unknown ones. */
const numeric = z
  .union([z.string(), z.number()])
  .optional()
  .transform((v) => {
    const n = typeof v === 'number' ? v : Number(v);
    return v === undefined || !Number.isFinite(n) ? undefined : n;
  });

const rate = z
  .string()
  .optional()
  .transform((v) => {
    const match = v === undefined ? null : /^(\d+)\/(\d+)$/.exec(v);
    if (!match) return undefined;
    const num = Number(match[1]);
    const den = Number(match[2]);
    return den === 0 || num === 0 ? undefined : num / den;
  });

const probeSchema = z.object({
  streams: z
    .array(
      z.object({
        codec_type: z.string(),
        codec_name: z.string().optional(),
        width: z.number().optional(),
        height: z.number().optional(),
        pix_fmt: z.string().optional(),
        sample_rate: numeric,
        channels: z.number().optional(),
        avg_frame_rate: rate,
        r_frame_rate: rate,
        duration: numeric,
      }),
    )
    .default([]),
  format: z.object({
    duration: numeric,
    size: numeric,
    format_name: z.string().default(''),
    tags: z.record(z.string(), z.string()).optional(),
  }),
});

export async function probe(path: string, signal?: AbortSignal): Promise<ProbeResult> {
  const json = await runFfprobe(['-print_format', 'json', '-show_format', '-show_streams', path], { signal });
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new ReelforgeError('render_failed', 'ffprobe printed something that is not JSON.', { cause: error });
  }
  const parsed = probeSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ReelforgeError('render_failed', 'ffprobe described the file in an unexpected shape.', { cause: parsed.error });
  }
  const { streams, format } = parsed.data;
  const streamDurations = streams.map((s) => s.duration ?? 0);
  return {
    durationSec: format.duration ?? Math.max(0, ...streamDurations),
    sizeBytes: format.size ?? 0,
    formatName: format.format_name,
    tags: format.tags ?? {},
    streams: streams.map((s) => ({
      codec_type: s.codec_type,
      codec_name: s.codec_name,
      width: s.width,
      height: s.height,
      pix_fmt: s.pix_fmt,
      sample_rate: s.sample_rate,
      channels: s.channels,
      fps: s.avg_frame_rate ?? s.r_frame_rate,
      durationSec: s.duration,
    })),
  };
}

/** Length of an audio or video file in seconds; `render_failed` when ffprobe cannot tell. */
export async function probeDurationSec(path: string, signal?: AbortSignal): Promise<number> {
  const result = await probe(path, signal);
  if (!(result.durationSec > 0)) {
    throw new ReelforgeError('render_failed', 'Could not measure the length of a media file.');
  }
  return result.durationSec;
}
