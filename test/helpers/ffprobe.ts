/**
 * What a file (or an uploaded body) holds, for assertions: the product's own typed ffprobe wrapper
 * (tested on its own in test/providers/ffmpeg) seen through the few fields tests compare.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { probe } from '../../src/providers/ffmpeg/probe.js';

export interface ProbedMedia {
  durationSec: number;
  formatName: string;
  video?: { codec: string; width: number; height: number };
  audio?: { codec: string };
  /** Every stream's codec name, sorted: `['aac', 'h264']`. */
  codecs: string[];
}

export async function probeMedia(path: string): Promise<ProbedMedia> {
  const info = await probe(path);
  const v = info.streams.find((s) => s.codec_type === 'video');
  const a = info.streams.find((s) => s.codec_type === 'audio');
  return {
    durationSec: info.durationSec,
    formatName: info.formatName,
    ...(v ? { video: { codec: v.codec_name ?? '', width: v.width ?? 0, height: v.height ?? 0 } } : {}),
    ...(a ? { audio: { codec: a.codec_name ?? '' } } : {}),
    codecs: info.streams.map((s) => s.codec_name ?? '').sort(),
  };
}

/** Probes bytes (an upload the fake server received) through a temporary file in `dir`. */
export async function probeBytes(data: Buffer, dir: string): Promise<ProbedMedia> {
  const path = join(dir, `probe-${Date.now()}-${Math.random().toString(36).slice(2)}.mp4`);
  await writeFile(path, data);
  try {
    return await probeMedia(path);
  } finally {
    await rm(path, { force: true });
  }
}
