/**
 * The `/video` submission flow, one for every chat platform: validate, acknowledge in the chat (the
 * progress message), apply an admin's tier override and the chat's caption style, enqueue (the
 * queue the bots get checks the allow-lists, limits and budget: src/access/admission.ts). The platform supplies only
 * how to answer: a refusal before anything was shown, the acknowledgement that yields the job's
 * chat target, and what to do with a duplicate. The place in line is not sent from here: the queue
 * announces every waiting job and the queue relay shows it (one sender).
 */
import type { Logger } from '../../log.js';
import type { ChatTarget, JobOwner } from '../../core/chat-target.js';
import { toReelforgeError, type ReelforgeError } from '../../core/errors.js';
import { validateVideoRequest, type RawVideoRequest, type VideoRequest } from '../../core/request.js';
import type { Notifier } from '../../jobs/notifier.js';
import type { JobQueue, VideoJobData } from '../../queue/types.js';
import type { SettingsStore } from '../../store/settings.js';

export type Log = Logger;

export interface SubmitVideoDeps {
  queue: JobQueue;
  settings: SettingsStore;
  log: Log;
}

export interface VideoSubmission<T extends ChatTarget> {
  raw: RawVideoRequest;
  /**
   * A request already made and checked, with what the job renders (an approved storyboard, a re-make
   * of a delivered video): `raw` is not read and no tier override applies (the storyboard has its tier).
   */
  prepared?: { request: VideoRequest } & Pick<VideoJobData, 'storyboard' | 'remake'>;
  owner: JobOwner & { chatId: string };
  /** Same key, same job: a redelivered update never makes a second video. */
  idempotencyKey: string;
  notifier: Notifier<T>;
  /** Bad input or not admitted: answer the user; nothing was shown or queued. */
  refuse(error: ReelforgeError): Promise<void>;
  /** Shows the progress message at once; returns where the job reports. */
  acknowledge(): Promise<T>;
  /** The request came twice: the first job keeps its own message; tidy up this one. */
  duplicate?(target: T): Promise<void>;
}

export type SubmitOutcome =
  | { kind: 'refused'; error: ReelforgeError }
  | { kind: 'not_queued'; error: ReelforgeError }
  | { kind: 'duplicate'; jobId: string }
  | { kind: 'queued'; jobId: string; position: number; etaSec: number };

export async function submitVideo<T extends ChatTarget>(deps: SubmitVideoDeps, submission: VideoSubmission<T>): Promise<SubmitOutcome> {
  let request: VideoRequest;
  try {
    request = submission.prepared ? submission.prepared.request : validateVideoRequest(submission.raw);
  } catch (thrown: unknown) {
    const error = toReelforgeError(thrown);
    await submission.refuse(error);
    return { kind: 'refused', error };
  }
  // Acknowledge before anything that waits on storage or the queue (Discord allows 3 s).
  const target = await submission.acknowledge();
  const prepared = submission.prepared;
  if (!prepared) request = await withTierOverride(deps, request, submission.owner);
  request = await withCaptionDefault(deps, request, submission.owner);
  try {
    const queued = await deps.queue.enqueue(
      {
        request,
        owner: submission.owner,
        target,
        createdAt: Date.now(),
        ...(prepared?.storyboard ? { storyboard: prepared.storyboard } : {}),
        ...(prepared?.remake ? { remake: prepared.remake } : {}),
      },
      { idempotencyKey: submission.idempotencyKey },
    );
    if (queued.duplicate) {
      await submission.duplicate?.(target);
      return { kind: 'duplicate', jobId: queued.id };
    }
    return { kind: 'queued', jobId: queued.id, position: queued.position, etaSec: queued.etaSec };
  } catch (thrown: unknown) {
    // queue_full, user_limit, or the queue is down: the progress message becomes the answer.
    const error = toReelforgeError(thrown);
    await submission.notifier.fail(target, error);
    return { kind: 'not_queued', error };
  }
}

/** A request that names no caption style gets its chat's default (an admin's /captions), if any. */
async function withCaptionDefault(deps: SubmitVideoDeps, request: VideoRequest, owner: JobOwner & { chatId: string }): Promise<VideoRequest> {
  if (request.captions) return request;
  try {
    const captions = await deps.settings.getCaptions(owner.platform, owner.chatId);
    return captions ? { ...request, captions } : request;
  } catch (error: unknown) {
    deps.log.warn('caption default unavailable', { error: String(error) });
    return request;
  }
}

/**
 * An admin's override (user, then chat) beats the tier asked for: overrides exist to limit or raise
 * cost. A settings outage costs the override, not the video: the tier then follows the request.
 */
export async function withTierOverride(deps: Pick<SubmitVideoDeps, 'settings' | 'log'>, request: VideoRequest, owner: JobOwner & { chatId: string }): Promise<VideoRequest> {
  try {
    const tier = await deps.settings.getTier({ platform: owner.platform, userId: owner.userId, chatId: owner.chatId });
    return tier ? { ...request, tier } : request;
  } catch (error: unknown) {
    deps.log.warn('tier override unavailable', { error: String(error) });
    return request;
  }
}
