/**
 * The bitrate figures, in one place: the sound track's AAC bitrate, the lowest video bitrate worth
 * sending, and the video bitrate cap that makes a first encode fit a destination's upload limit.
 */

/** Lowest video bitrate worth sending; below it a re-encode is mush. */
export const MIN_VIDEO_BPS = 150_000;
/** The sound track's AAC bitrate (transparent for voice and music). */
export const AUDIO_BPS = 160_000;
/** The MP4 container's share of a file. */
const CONTAINER_SHARE = 0.04;

/**
 * The video bitrate that keeps a file of about `durationSec` under `maxBytes`: the voice sets the
 * real length, so the estimate allows 30 % more than asked, and the muxer's overhead and the sound
 * track come off first. Never under MIN_VIDEO_BPS.
 */
export function videoBitrateFor(maxBytes: number, durationSec: number): number {
  const seconds = durationSec * 1.3 + 2;
  return Math.max(MIN_VIDEO_BPS, Math.floor((maxBytes * 8 * (1 - CONTAINER_SHARE)) / seconds - AUDIO_BPS));
}
