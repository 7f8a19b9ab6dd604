/**
 * The timeline: every segment lasts as long as its measured voice plus a short pause, rounded to
 * whole frames, so pictures, subtitles and voice cannot drift apart over a long video.
 */
import type { Motion } from './ports.js';

/** Silence before the first words, so the video does not open mid-syllable. */
export const LEAD_IN_SEC = 0.3;
/** Pause after each segment's voice, before the next picture. */
export const GAP_SEC = 0.35;
/** Extra hold on the last picture while the music and picture fade out. */
export const TAIL_SEC = 1.2;

export interface SegmentTiming {
  /** Silence inside the segment before its voice starts. */
  voiceOffsetSec: number;
  /** Whole-frame length of the segment. */
  durationSec: number;
  frames: number;
}

export function segmentTiming(voiceSec: number, fps: number, position: { first: boolean; last: boolean }): SegmentTiming {
  const voiceOffsetSec = position.first ? LEAD_IN_SEC : 0;
  const raw = voiceOffsetSec + voiceSec + (position.last ? TAIL_SEC : GAP_SEC);
  const frames = Math.max(1, Math.ceil(raw * fps - 1e-6));
  return { voiceOffsetSec, durationSec: frames / fps, frames };
}

/** The pause after a segment's voice may shrink or grow to this range to keep the video on time. */
export const MIN_GAP_SEC = 0.15;
export const MAX_GAP_SEC = 1.2;
/** The last picture's hold may shrink or grow to this range (the longest grows with the video). */
export const MIN_TAIL_SEC = 0.8;
export function maxTailSec(askedSec: number): number {
  return Math.min(6, TAIL_SEC + 0.15 * askedSec);
}

export interface SegmentPlace {
  first: boolean;
  last: boolean;
  /** Where the segment starts on the timeline (the sum of the segments before it). */
  startSec: number;
  /** Where it should end: its point on the planned timeline, or the asked length for the last one. */
  targetEndSec: number;
}

/** Seconds the voice of a segment has if its pause keeps its nominal length (may be <= 0). */
export function voiceRoom(place: SegmentPlace): number {
  return place.targetEndSec - place.startSec - (place.first ? LEAD_IN_SEC : 0) - (place.last ? TAIL_SEC : GAP_SEC);
}

/**
 * A segment's timing that ends as near its target as the pause allows: the pause after the voice
 * (or the last picture's hold) takes up the difference within its bounds, so a video whose voices
 * ran short or long so far comes back on time over the next segments.
 */
export function fittedTiming(voiceSec: number, fps: number, place: SegmentPlace, askedSec: number): SegmentTiming {
  const voiceOffsetSec = place.first ? LEAD_IN_SEC : 0;
  const wanted = place.targetEndSec - place.startSec - voiceOffsetSec - voiceSec;
  const pause = place.last ? clamp(wanted, MIN_TAIL_SEC, maxTailSec(askedSec)) : clamp(wanted, MIN_GAP_SEC, MAX_GAP_SEC);
  // Rounded to the nearest frame (not up), so the rounding does not add up over many segments.
  const frames = Math.max(1, Math.round((voiceOffsetSec + voiceSec + pause) * fps));
  return { voiceOffsetSec, durationSec: frames / fps, frames };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/**
 * Ken Burns motion, varied by segment: alternating zoom in and out, with the pan direction
 * turning round the compass so consecutive pictures never move the same way.
 */
export function motionFor(index: number): Motion {
  const directions: Array<{ x: number; y: number }> = [
    { x: -0.6, y: 0.2 },
    { x: 0.6, y: -0.3 },
    { x: 0.1, y: 0.7 },
    { x: -0.2, y: -0.7 },
    { x: 0.7, y: 0.5 },
    { x: -0.7, y: -0.4 },
  ];
  const dir = directions[index % directions.length] ?? { x: 0, y: 0 };
  const zoomIn = index % 2 === 0;
  const near = 1.16;
  return zoomIn
    ? { zoomFrom: 1.02, zoomTo: near, panFrom: { x: 0, y: 0 }, panTo: dir }
    : { zoomFrom: near, zoomTo: 1.02, panFrom: { x: -dir.x, y: -dir.y }, panTo: { x: 0, y: 0 } };
}
