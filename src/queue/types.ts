/**
 * The job queue port. Every video request, from any chat or the CLI, becomes a job here.
 * Implementations: `local` (p-queue + durable journal under DATA_DIR) and `bullmq` (Redis).
 * Both pass `test/queue/contract.ts`.
 */
import type { ChatTarget, JobOwner } from '../core/chat-target.js';
import type { ReelforgeError } from '../core/errors.js';
import type { ProgressEvent } from '../core/progress.js';
import type { Receipt } from '../core/receipt.js';
import type { SpendSummary } from '../core/spend.js';
import type { VideoRequest } from '../core/request.js';
import type { Storyboard, StoryboardChange } from '../pipeline/storyboard.js';

/** Job data: ids, text and paths only, never media. */
export interface VideoJobData {
  request: VideoRequest;
  owner: JobOwner;
  /** Where to report; null for the CLI and tests that only listen to events. */
  target: ChatTarget | null;
  createdAt: number;
  /** A storyboard to render as written (an approved /storyboard): no script call. */
  storyboard?: Storyboard;
  /**
   * Make an earlier job's video again with changes (a re-roll, a new line, another voice): that job's
   * storyboard is read from the settings store and only what the changes made stale is made again.
   */
  remake?: { fromJobId: string; changes: StoryboardChange[] };
}

export type JobState = 'waiting' | 'active' | 'completed' | 'failed' | 'cancelled';

export interface JobInfo {
  id: string;
  state: JobState;
  data: VideoJobData;
  /** 1-based place among waiting jobs; undefined unless waiting. */
  position?: number;
  etaSec?: number;
  attempts: number;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
}

export interface EnqueueOptions {
  /** Same key, same job: a retried chat update or a double click does not make two videos. */
  idempotencyKey: string;
}

export interface Enqueued {
  id: string;
  /** True when the idempotency key matched an existing job. */
  duplicate: boolean;
  position: number;
  etaSec: number;
}

export interface JobResult {
  receipt: Receipt;
}

export type QueueEvent =
  | { type: 'progress'; jobId: string; event: ProgressEvent }
  | { type: 'completed'; jobId: string; result: JobResult }
  | { type: 'failed'; jobId: string; error: ReturnType<ReelforgeError['toJSON']> }
  | { type: 'cancelled'; jobId: string };

export interface JobContext {
  id: string;
  data: VideoJobData;
  attempt: number;
  /**
   * Whether a failure now is final: the queue will not retry it. The queue decides, so the job and
   * its bookkeeping never guess from `attempt` (interruptions count there, but not toward retries).
   */
  lastAttempt: boolean;
  /** Aborted on cancel or shutdown: stop provider calls and ffmpeg at once. The reason says which. */
  signal: AbortSignal;
  progress(event: ProgressEvent): void;
  /**
   * Resolves while this run still owns the job; otherwise aborts `signal` and throws a retryable
   * cancel (the run ends "interrupted", silently: another run has the job). Called right before a
   * step that cannot be undone (the delivery). Absent where a run cannot lose its job (local queue).
   */
  confirmOwnership?(): Promise<void>;
  /**
   * The step that cannot be undone (the video is in the chat) is done, with this result: recorded
   * durably before it resolves. From then on the job ends completed with this result, whatever
   * happens to this run (a crash, a shutdown, a lost lock, an error): no run delivers it again.
   * Absent where nothing is delivered from a run (tests that only listen to events).
   */
  recordDelivered?(result: JobResult): Promise<void>;
}

/** Runs one job. Throw a ReelforgeError: `retryable` ones are retried with backoff, others fail at once. */
export type JobProcessor = (job: JobContext) => Promise<JobResult>;

export interface QueueStats {
  waiting: number;
  active: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** Today's spending and the limits, when the queue enforces them (src/access/admission.ts). */
  spend?: SpendSummary;
}

export interface JobQueue {
  /** Throws ReelforgeError `queue_full` or `user_limit` when the job may not wait. */
  enqueue(data: VideoJobData, options: EnqueueOptions): Promise<Enqueued>;
  /** Cancels a waiting or running job; false when it is unknown or already finished. */
  cancel(jobId: string): Promise<boolean>;
  get(jobId: string): Promise<JobInfo | undefined>;
  /** Active and waiting jobs, in the order they run. */
  list(): Promise<JobInfo[]>;
  stats(): Promise<QueueStats>;
  /** Subscribes to events from every process; returns the unsubscribe function. */
  subscribe(listener: (event: QueueEvent) => void): () => void;
  /** Starts working jobs in this process. */
  work(processor: JobProcessor): Promise<void>;
  close(): Promise<void>;
}
