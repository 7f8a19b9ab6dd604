/**
 * A job's storyboard, kept after its video is delivered so the video can be re-made in part (a
 * re-roll, a new line, another voice): in the settings store, where every bot and worker process can
 * reach it (Redis when scaled out), for STORYBOARD_KEEP_HOURS, then gone. Only text: the pictures,
 * voices and encoded segments it names are in the content caches, found again by their content.
 */
import type { JobOwner } from '../core/chat-target.js';
import { ReelforgeError } from '../core/errors.js';
import { applyChanges, storyboardRequest, validateStoryboard, type Storyboard } from '../pipeline/storyboard.js';
import type { VideoRequest } from '../core/request.js';
import type { VideoJobData } from '../queue/types.js';
import type { SettingsStore } from '../store/settings.js';

/** What a later re-make of a job's video needs. */
export interface KeptStoryboard {
  storyboard: Storyboard;
  /** Who asked for the video: the only one (with admins) who may re-make it. */
  owner: JobOwner;
  /** The delivered video's scenes, for the scene picker. */
  scenes: number;
  keptAt: number;
}

export function keptStoryboardKey(jobId: string): string {
  return `job-storyboard:${jobId}`;
}

export async function keepStoryboard(settings: SettingsStore, jobId: string, kept: Omit<KeptStoryboard, 'scenes' | 'keptAt'>, ttlMs: number): Promise<void> {
  const value: KeptStoryboard = { ...kept, scenes: kept.storyboard.segments.length, keptAt: Date.now() };
  await settings.putExpiring(keptStoryboardKey(jobId), JSON.stringify(value), ttlMs);
}

/** The kept storyboard of a job, or undefined once it expired (or was never kept). */
export async function readKeptStoryboard(settings: SettingsStore, jobId: string): Promise<KeptStoryboard | undefined> {
  const text = await settings.getExpiring(keptStoryboardKey(jobId));
  if (text === undefined) return undefined;
  const value = JSON.parse(text) as KeptStoryboard;
  return { ...value, storyboard: validateStoryboard(value.storyboard, 'The kept storyboard') };
}

/** The job's caption style (asked for, or the chat's default) applies to a storyboard's render too. */
function withCaptions(request: VideoRequest, asked: VideoRequest): VideoRequest {
  return asked.captions ? { ...request, captions: asked.captions } : request;
}

/** What a job renders: a plain request (the script is written), or a storyboard (given or re-made). */
export type JobPlan = { request: VideoRequest; storyboard?: undefined } | { request: VideoRequest; storyboard: Storyboard };

/**
 * The plan for a job's data. A re-make whose storyboard has expired fails plainly and at once
 * (not retried): nothing about it can be made again.
 */
export async function planJob(data: VideoJobData, settings: SettingsStore): Promise<JobPlan> {
  if (data.remake) {
    const kept = await readKeptStoryboard(settings, data.remake.fromJobId);
    if (!kept) {
      throw new ReelforgeError('bad_input', 'That video is too old to change: its storyboard is no longer kept. Make a new one.', {
        params: { reason: 'storyboard_expired' },
      });
    }
    const storyboard = applyChanges(kept.storyboard, data.remake.changes);
    return { request: withCaptions(storyboardRequest(storyboard), data.request), storyboard };
  }
  if (data.storyboard) {
    const storyboard = validateStoryboard(data.storyboard);
    return { request: withCaptions(storyboardRequest(storyboard), data.request), storyboard };
  }
  return { request: data.request };
}
