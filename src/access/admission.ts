/**
 * Who may ask for a video, and how much they may spend: one check at enqueue, before any paid call,
 * that every bot goes through because it wraps the queue they all use.
 *
 * - `ALLOWED_USERS` / `ALLOWED_CHATS`: when either is set, a request from anyone else is refused.
 * - `USER_DAILY_VIDEOS`, `USER_DAILY_USD`, `DAILY_BUDGET_USD`: the job's estimated cost is reserved
 *   in the settings store's ledger (check and book in one atomic step, across processes with Redis),
 *   settled with the receipt's cost when the job completes, released when it fails or is cancelled.
 * - Admins (`ADMIN_IDS`) are never refused; their jobs are still booked, as the money is spent.
 */
import { ownerKey, type JobOwner } from '../core/chat-target.js';
import { ReelforgeError } from '../core/errors.js';
import type { VideoRequest } from '../core/request.js';
import { nextUtcMidnight, utcDay, type SpendLimitName, type SpendLimits } from '../core/spend.js';
import { silentLogger, type Logger } from '../log.js';
import { classifyJobEnd } from '../queue/job-end.js';
import { jobIdFor } from '../queue/job-id.js';
import type { Enqueued, EnqueueOptions, JobProcessor, JobQueue, QueueStats, VideoJobData } from '../queue/types.js';
import type { SettingsStore } from '../store/settings.js';

export interface AccessPolicy {
  adminIds: ReadonlySet<string>;
  /** `platform:userId`; null: no list. */
  allowedUsers: ReadonlySet<string> | null;
  /** `platform:chatId`; null: no list. */
  allowedChats: ReadonlySet<string> | null;
  limits: SpendLimits;
}

export interface AdmissionOptions {
  settings: SettingsStore;
  policy: AccessPolicy;
  /** The job's expected cost in dollars (0 with offline providers). */
  estimateUsd: (request: VideoRequest) => number;
  now?: () => Date;
  log?: Logger;
  /** Told of every request that was queued or refused here (metrics). */
  onOutcome?: (outcome: 'queued' | 'refused', data: VideoJobData) => void;
}

/** Refuses a request from outside the allow-lists; admins always pass. */
export function checkAllowed(owner: JobOwner, policy: AccessPolicy): void {
  if (policy.adminIds.has(ownerKey(owner))) return;
  if (!policy.allowedUsers && !policy.allowedChats) return;
  if (policy.allowedUsers?.has(ownerKey(owner))) return;
  if (owner.chatId !== undefined && policy.allowedChats?.has(`${owner.platform}:${owner.chatId}`)) return;
  throw new ReelforgeError('not_allowed', 'This bot is private: you and this chat are not on its list of allowed users and chats.');
}

/** The queue every bot enqueues into, with the allow-lists and daily limits checked and booked first. */
export function withAdmission(queue: JobQueue, options: AdmissionOptions): JobQueue {
  const { settings, policy } = options;
  const now = options.now ?? (() => new Date());
  const log = options.log ?? silentLogger();

  // Bookkeeping must not fail a job or a chat's request: a store outage is logged and the estimate stays booked.
  const settle = (jobId: string, usd: number): Promise<void> =>
    settings.settle(jobId, usd).catch((error: unknown) => log.warn('spend settle failed', { jobId, error }));
  const release = (jobId: string): Promise<void> =>
    settings.release(jobId).catch((error: unknown) => log.warn('spend release failed', { jobId, error }));

  // A job cancelled or failed while waiting never reaches a processor: its end event releases it.
  // Every process hears every event; settle and release count once per job, whoever comes first.
  const unsubscribe = queue.subscribe((event) => {
    if (event.type === 'cancelled' || event.type === 'failed') void release(event.jobId); // logs its own failure
    else if (event.type === 'completed') void settle(event.jobId, event.result.receipt.costUsd); // likewise
  });

  const admit = async (data: VideoJobData, enqueueOptions: EnqueueOptions): Promise<Enqueued> => {
    checkAllowed(data.owner, policy);
    const at = now();
    const jobId = jobIdFor(enqueueOptions.idempotencyKey);
    const admin = policy.adminIds.has(ownerKey(data.owner));
    const usd = options.estimateUsd(data.request);
    const outcome = await settings.reserve(
      { jobId, day: utcDay(at), platform: data.owner.platform, userId: data.owner.userId, usd },
      admin ? {} : policy.limits,
    );
    if (!outcome.ok) {
      log.info('request refused: daily limit', { platform: data.owner.platform, user: data.owner.userId, limit: outcome.limit, used: outcome.used, max: outcome.max });
      throw dailyLimitError(outcome, at);
    }
    try {
      return await queue.enqueue(data, enqueueOptions);
    } catch (error) {
      // Not queued (full, the user's own limit, the queue is down): nothing will be spent.
      if (!outcome.duplicate) await release(jobId);
      throw error;
    }
  };

  return {
    async enqueue(data: VideoJobData, enqueueOptions: EnqueueOptions): Promise<Enqueued> {
      try {
        const queued = await admit(data, enqueueOptions);
        if (!queued.duplicate) options.onOutcome?.('queued', data);
        return queued;
      } catch (error) {
        options.onOutcome?.('refused', data);
        throw error;
      }
    },
    cancel: (jobId) => queue.cancel(jobId),
    get: (jobId) => queue.get(jobId),
    list: () => queue.list(),
    async stats(): Promise<QueueStats> {
      const [stats, today] = await Promise.all([queue.stats(), settings.spend(utcDay(now()))]);
      return { ...stats, spend: { ...today, limits: policy.limits } };
    },
    subscribe: (listener) => queue.subscribe(listener),
    work: (processor) => queue.work(settling(processor, settle, release)),
    async close(): Promise<void> {
      unsubscribe();
      await queue.close();
    },
  };
}

/** In the process that runs the job: settle with the receipt, or release when it has ended without one. */
function settling(processor: JobProcessor, settle: (jobId: string, usd: number) => Promise<void>, release: (jobId: string) => Promise<void>): JobProcessor {
  return async (job) => {
    try {
      const result = await processor(job);
      await settle(job.id, result.receipt.costUsd);
      return result;
    } catch (thrown) {
      const { kind } = classifyJobEnd(job, thrown);
      if (kind === 'failed' || kind === 'cancelled') await release(job.id);
      throw thrown;
    }
  };
}

function dailyLimitError(outcome: { limit: SpendLimitName; used: number; max: number }, at: Date): ReelforgeError {
  const resetsAt = nextUtcMidnight(at);
  return new ReelforgeError('daily_limit', dailyLimitMessage(outcome.limit, outcome.max), {
    params: {
      limit: outcome.limit,
      max: outcome.max,
      used: Math.round(outcome.used * 10_000) / 10_000,
      resetsAt: resetsAt.toISOString(),
      resetsInMin: Math.ceil((resetsAt.getTime() - at.getTime()) / 60_000),
    },
  });
}

/**
 * The same rules for a paid call that is not a video (a storyboard's script): refused outside the
 * allow-lists, or when the owner has no video left today, or when `usd` would pass a spending limit.
 * It books nothing: the call costs about a tenth of a cent, and the video it leads to is booked at enqueue.
 */
export async function admitSpend(owner: JobOwner, usd: number, options: Pick<AdmissionOptions, 'settings' | 'policy' | 'now'>): Promise<void> {
  const { policy } = options;
  checkAllowed(owner, policy);
  if (policy.adminIds.has(ownerKey(owner))) return;
  const at = (options.now ?? (() => new Date()))();
  const today = await options.settings.spend(utcDay(at));
  const mine = today.users.find((u) => u.platform === owner.platform && u.userId === owner.userId) ?? { videos: 0, usd: 0 };
  const { userVideos, userUsd, budgetUsd } = policy.limits;
  if (userVideos !== undefined && mine.videos >= userVideos) throw dailyLimitError({ limit: 'user_videos', used: mine.videos, max: userVideos }, at);
  if (userUsd !== undefined && mine.usd + usd > userUsd) throw dailyLimitError({ limit: 'user_usd', used: mine.usd, max: userUsd }, at);
  if (budgetUsd !== undefined && today.usd + usd > budgetUsd) throw dailyLimitError({ limit: 'daily_budget', used: today.usd, max: budgetUsd }, at);
}

function dailyLimitMessage(limit: string, max: number): string {
  if (limit === 'user_videos') return `You have had your ${max} videos for today.`;
  if (limit === 'user_usd') return `This video would pass your daily spending limit of $${max.toFixed(2)}.`;
  return `This bot has used today's budget of $${max.toFixed(2)}.`;
}
