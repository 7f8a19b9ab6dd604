/**
 * The video job: runs the render for a queued request, shows progress in the requester's chat,
 * delivers the file (re-encoded to fit the chat's upload limit when needed) and cleans up.
 * Whichever process runs the job notifies the chat, through the platform's HTTP API alone.
 */
import type { ChatTarget } from '../core/chat-target.js';
import { ReelforgeError, chatGone, isChatGone, tooLarge } from '../core/errors.js';
import { applyProgress, emptySnapshot, type ProgressEvent, type ProgressSnapshot } from '../core/progress.js';
import type { Receipt } from '../core/receipt.js';
import { classifyJobEnd } from '../queue/job-end.js';
import type { Logger } from '../log.js';
import type { VideoAssembler } from '../pipeline/ports.js';
import type { JobContext, JobProcessor, JobResult, VideoJobData } from '../queue/types.js';
import type { Notifier } from './notifier.js';

export interface RenderOutput {
  path: string;
  receipt: Receipt;
  thumbnailPath?: string;
  /** The job's storyboard was kept: the video can be re-made in part. */
  remakeable?: boolean;
}

/** Makes the video for a job. The real one runs the pipeline; tests may pass a quick fake. */
export type RenderVideo = (
  data: VideoJobData,
  options: {
    jobId: string;
    signal: AbortSignal;
    onProgress: (event: ProgressEvent) => void;
    /** The job's logger: every line carries jobId, platform, user and chat. */
    log?: Logger;
    /** The chat's upload limit, when there is a chat: the render aims under it. */
    maxBytes?: number;
  },
) => Promise<RenderOutput>;


export interface NotifierRegistry {
  get(platform: ChatTarget['platform']): Notifier | undefined;
}

export interface VideoJobDeps {
  render: RenderVideo;
  notifiers: NotifierRegistry;
  /** Re-encodes a video that came out over the chat's limit; without it such a video fails with too_large. */
  assembler?: Pick<VideoAssembler, 'fitToSize'>;
  /** Removes the job's files once its chat has the video (or has heard why not); the CLI keeps its output. */
  discard?: (paths: string[]) => Promise<void>;
  log?: Logger;
  /** The job's overall time limit for a video of `durationSec` (default `jobTimeLimitMs`). */
  timeLimitMs?: (durationSec: number) => number;
}

/**
 * How long a job may take in all, from its length: 5 minutes plus 15 s per second of video (a 60 s
 * video gets 20 minutes; renders here run at about real time, so this leaves room for slow
 * providers and retries, yet a stuck job cannot hold a worker and its owner's place for ever).
 */
export function jobTimeLimitMs(durationSec: number): number {
  return (5 * 60 + 15 * durationSec) * 1000;
}

function result(receipt: Receipt, path: string): JobResult {
  return { receipt: { ...receipt, output: path } };
}

function timeLimitError(limitMs: number): ReelforgeError {
  const limitMin = Math.max(1, Math.round(limitMs / 60_000));
  return new ReelforgeError('render_failed', `Making the video took longer than its limit of ${limitMin} min and was stopped.`, {
    params: { reason: 'time_limit', limitMin },
  });
}

export function notifierRegistry(notifiers: Notifier[]): NotifierRegistry {
  const byPlatform = new Map<string, Notifier>(notifiers.map((n) => [n.platform, n]));
  return { get: (platform) => byPlatform.get(platform) };
}

/** What every log line of a job carries. */
export function jobLogFields(job: { id: string; data: VideoJobData }): Record<string, string> {
  const owner = job.data.owner;
  return { jobId: job.id, platform: owner.platform, user: owner.userId, ...(owner.chatId !== undefined ? { chat: owner.chatId } : {}) };
}

/** `video.mp4` re-encoded for a 50 MB chat → `video-50mb.mp4`. */
function fittedPath(path: string, limitBytes: number): string {
  return `${path.replace(/\.mp4$/i, '')}-${Math.floor(limitBytes / 1048576)}mb.mp4`;
}

export function createVideoJobProcessor(deps: VideoJobDeps): JobProcessor {
  return async (job: JobContext): Promise<JobResult> => {
    const log = deps.log?.child(jobLogFields(job));
    const target = job.data.target;
    const notifier = target ? deps.notifiers.get(target.platform) : undefined;
    let snapshot: ProgressSnapshot = emptySnapshot();
    let pending: Promise<void> = Promise.resolve();

    const show = (next: ProgressSnapshot): void => {
      if (!target || !notifier) return;
      // Progress edits are queued one after another so they arrive in order; a failed edit is logged, never fatal.
      pending = pending
        .then(() => notifier.progress(target, next, job.id))
        .catch((error: unknown) => log?.warn('progress edit failed', { error }));
    };

    // The platform said the bot can no longer post in the chat: no more paid work for it.
    const gone = new AbortController();
    const checkChat = (): void => {
      if (target && notifier?.chatGone?.(target) && !gone.signal.aborted) gone.abort(chatGone());
    };

    const onProgress = (event: ProgressEvent): void => {
      snapshot = applyProgress(snapshot, event);
      job.progress(event);
      checkChat();
      show(snapshot);
    };

    const files: string[] = [];
    // The job's own signal (cancel, shutdown) or its time limit, whichever comes first.
    const limitMs = (deps.timeLimitMs ?? jobTimeLimitMs)(job.data.request.durationSec);
    const overtime = new AbortController();
    const limitTimer = setTimeout(() => overtime.abort(timeLimitError(limitMs)), limitMs);
    const signal = AbortSignal.any([job.signal, overtime.signal, gone.signal]);
    let keepFiles = false;
    let delivered: JobResult | undefined;
    try {
      log?.info('job started', { attempt: job.attempt, seconds: job.data.request.durationSec, tier: job.data.request.tier });
      // The chat's upload limit, asked once: the render aims under it, and a miss is re-encoded.
      const limit = target && notifier ? notifier.uploadLimitBytes(target) : undefined;
      const output = await deps.render(job.data, { jobId: job.id, signal, onProgress, ...(log ? { log } : {}), ...(limit ? { maxBytes: limit } : {}) });
      files.push(output.path, ...(output.thumbnailPath ? [output.thumbnailPath] : []));
      let path = output.path;
      let receipt = output.receipt;
      if (target && notifier && limit !== undefined) {
        if (output.receipt.sizeBytes > limit) {
          if (!deps.assembler) throw tooLarge(output.receipt.sizeBytes, limit);
          onProgress({ type: 'stage', stage: 'upload', status: 'running', note: 'shrinking' });
          const fitted = await deps.assembler.fitToSize(path, fittedPath(path, limit), limit, signal);
          files.push(fitted.path);
          path = fitted.path;
          receipt = { ...receipt, sizeBytes: fitted.sizeBytes, width: fitted.width, height: fitted.height };
        }
        onProgress({ type: 'stage', stage: 'upload', status: 'running' });
        await pending;
        // A delivery cannot be undone: only the run that still owns the job sends the video.
        await job.confirmOwnership?.();
        checkChat();
        if (gone.signal.aborted) throw gone.signal.reason;
        await notifier.deliver(
          target,
          {
            path,
            receipt,
            ...(output.thumbnailPath ? { thumbnailPath: output.thumbnailPath } : {}),
            ...(output.remakeable ? { remake: { jobId: job.id, scenes: receipt.segments } } : {}),
          },
          signal,
        );
        // Recorded at once: from here no crash, shutdown or later error makes the job run (and send) again.
        delivered = result(receipt, path);
        await job.recordDelivered?.(delivered);
        onProgress({ type: 'stage', stage: 'upload', status: 'done' });
      }
      await pending;
      log?.info('job completed', { seconds: receipt.durationSec, tokens: receipt.llm.totalTokens, costUsd: receipt.costUsd, sizeBytes: receipt.sizeBytes });
      return delivered ?? result(receipt, path);
    } catch (thrown: unknown) {
      if (delivered) {
        // The video is in the chat: what failed after it (a cancel that came too late) is not the chat's concern.
        log?.warn('job ended after its delivery', { error: thrown });
        return delivered;
      }
      // Past its time limit whatever a stage threw while stopping is a cancel: the limit is the cause.
      // Likewise once the chat is known gone: that is why the stage stopped.
      const overLimit = overtime.signal.aborted && !job.signal.aborted;
      const chatLeft = gone.signal.aborted && !job.signal.aborted;
      const cause = overLimit ? (overtime.signal.reason as ReelforgeError) : chatLeft ? (gone.signal.reason as ReelforgeError) : thrown;
      const { kind, error } = classifyJobEnd(job, cause);
      if (isChatGone(error) && files.length > 0) {
        // A finished video with nowhere to go is kept (pruned with the other outputs), and said where.
        keepFiles = true;
        log?.warn('chat gone: the finished video could not be delivered and is kept', { path: files[0], error });
      }
      await pending;
      if (kind !== 'interrupted') {
        const message = `job ${kind === 'retry' ? 'failed, will retry' : kind}`;
        const fields = { attempt: job.attempt, error };
        if (kind === 'failed') log?.error(message, fields);
        else if (kind === 'retry') log?.warn(message, fields);
        else log?.info(message, fields);
      }
      // The chat hears of the end only: not of a shutdown (the job resumes) nor of a failure a retry follows.
      if ((kind === 'cancelled' || kind === 'failed') && target && notifier) {
        await notifier.fail(target, error).catch((notifyError: unknown) =>
          log?.warn('failure notice failed', { error: notifyError }),
        );
      }
      throw error;
    } finally {
      clearTimeout(limitTimer);
      if (target && deps.discard && files.length > 0 && !keepFiles) {
        await deps.discard(files).catch((error: unknown) => log?.warn('could not remove job files', { error }));
      }
    }
  };
}
