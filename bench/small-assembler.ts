/**
 * The ffmpeg assembler at a quarter of the size in each direction, for benchmarks that need real
 * encodes of many videos: the same timeline and the same work per frame, 1/16 of the pixels.
 */
import type { SegmentRenderInput, VideoAssembler } from '../src/pipeline/ports.js';

export function smallAssembler(inner: VideoAssembler, options: { x264Preset?: SegmentRenderInput['x264Preset'] } = {}): VideoAssembler {
  const even = (v: number): number => Math.max(2, Math.round(v / 8) * 2);
  return {
    renderSegment: (input, signal) =>
      inner.renderSegment({ ...input, width: even(input.width), height: even(input.height), ...(options.x264Preset ? { x264Preset: options.x264Preset } : {}) }, signal),
    mixAudio: (input, signal) => inner.mixAudio(input, signal),
    finish: (input, signal) => inner.finish(input, signal),
    probeDurationSec: (path, signal) => inner.probeDurationSec(path, signal),
    thumbnail: (videoPath, outPath, atSec, signal) => inner.thumbnail(videoPath, outPath, atSec, signal),
    fitToSize: (inPath, outPath, maxBytes, signal) => inner.fitToSize(inPath, outPath, maxBytes, signal),
    retimeVoice: (input, signal) => inner.retimeVoice(input, signal),
  };
}
