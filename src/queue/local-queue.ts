/**
 * The single-machine queue, used when REDIS_URL is not set. p-queue runs jobs with bounded
 * concurrency; every state change is appended to a journal (fsynced before the caller hears of it),
 * so after a crash or restart each unfinished job (waiting or running) runs again, in its place.
 */
import PQueue from 'p-queue';
import { ownerKey } from '../core/chat-target.js';
import { ReelforgeError, toReelforgeError } from '../core/errors.js';
import type { ProgressEvent } from '../core/progress.js';
import { averageMs, DURATION_SAMPLES, estimateEtas } from './eta.js';
import { byRank, promotions } from './fairness.js';
import { jobIdFor } from './job-id.js';
import { Journal, journalPath } from './journal.js';
import { checkUserLimit, DEFAULT_LIMITS, queueFullError, type QueueLimits } from './limits.js';
import type {
  Enqueued,
  EnqueueOptions,
  JobInfo,
  JobProcessor,
  JobQueue,
  JobResult,
  JobState,
  QueueEvent,
  QueueStats,
  VideoJobData,
} from './types.js';

export interface LocalQueueOptions extends Partial<QueueLimits> {
  /** Directory of the journal, e.g. `${DATA_DIR}/queue`. */
  dir: string;
  /** Jobs run at once in this process. Default 1. */
  concurrency?: number;
  /** Tries per job for retryable errors. Default 3. */
  attempts?: number;
  /** First retry delay; doubles each time. Default 2000 ms. */
  backoffMs?: number;
  /** Assumed job duration before any job has finished. Default 60 s. */
  defaultJobSec?: number;
  /** Crashes mid-job a job survives before it is failed (a job that kills its process each time). Default 2. */
  maxInterruptions?: number;
  /** Finished jobs remembered for `get` and idempotency. Default 1000. */
  keepFinished?: number;
}

type ErrorJson = ReturnType<ReelforgeError['toJSON']>;

interface LocalJob {
  id: string;
  data: VideoJobData;
  owner: string;
  /** Arrival order; kept for the record. */
  seq: number;
  /** Fairness: the owner's round and the ticket within it (see fairness.ts). */
  round: number;
  ticket: number;
  state: JobState;
  /** Starts, including the one now running. */
  attempts: number;
  /** Failures of retryable errors so far. */
  failures: number;
  interruptions: number;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Backoff: not to start before this time. */
  notBefore?: number;
  result?: JobResult;
  error?: ErrorJson;
}

type Snapshot = Omit<LocalJob, 'owner'>;

type JournalRecord =
  | { op: 'job'; job: Snapshot }
  | { op: 'durations'; samplesMs: number[] }
  | { op: 'enqueue'; id: string; data: VideoJobData; seq: number; round: number; at: number }
  | { op: 'rank'; id: string; round: number; ticket: number }
  | { op: 'start'; id: string; at: number }
  | { op: 'retry'; id: string; at: number; notBefore: number; error: ErrorJson }
  | { op: 'requeue'; id: string; at: number }
  | { op: 'finish'; id: string; at: number; state: 'completed' | 'failed' | 'cancelled'; result?: JobResult; error?: ErrorJson };

interface Running {
  job: LocalJob;
  controller: AbortController;
}

export class LocalJobQueue implements JobQueue {
  private readonly jobs = new Map<string, LocalJob>();
  private readonly running = new Map<string, Running>();
  private readonly listeners = new Set<(event: QueueEvent) => void>();
  /** Jobs the replay gave up on (they kept killing the process): told to every subscriber, once each. */
  private readonly replayFailures: Array<{ jobId: string; error: ErrorJson }> = [];
  /** The last place told to each waiting job, so only changes are announced. */
  private readonly announced = new Map<string, number>();
  private durationsMs: number[] = [];
  private seq = 0;
  private processor: JobProcessor | undefined;
  private closing = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private readonly pq: PQueue;
  private readonly limits: QueueLimits;
  private readonly concurrency: number;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly defaultJobMs: number;
  private readonly keepFinished: number;

  private constructor(
    private readonly journal: Journal<JournalRecord>,
    options: LocalQueueOptions,
  ) {
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.limits = {
      maxWaiting: options.maxWaiting ?? DEFAULT_LIMITS.maxWaiting,
      userActive: options.userActive ?? DEFAULT_LIMITS.userActive,
      userWaiting: options.userWaiting ?? DEFAULT_LIMITS.userWaiting,
    };
    this.attempts = Math.max(1, options.attempts ?? 3);
    this.backoffMs = options.backoffMs ?? 2000;
    this.defaultJobMs = (options.defaultJobSec ?? 60) * 1000;
    this.keepFinished = options.keepFinished ?? 1000;
    this.pq = new PQueue({ concurrency: this.concurrency });
  }

  /** Opens (or recovers) the queue in `options.dir`: jobs that were waiting or running wait again, in order. */
  static async open(options: LocalQueueOptions): Promise<LocalJobQueue> {
    const { journal, records } = await Journal.open<JournalRecord>(journalPath(options.dir));
    const queue = new LocalJobQueue(journal, options);
    try {
      queue.replay(records, options.maxInterruptions ?? 2);
      await journal.compact(queue.snapshotRecords());
    } catch (error) {
      await journal.close();
      throw error;
    }
    return queue;
  }

  async enqueue(data: VideoJobData, options: EnqueueOptions): Promise<Enqueued> {
    this.assertOpen();
    const id = jobIdFor(options.idempotencyKey);
    const existing = this.jobs.get(id);
    if (existing) return { id, duplicate: true, ...this.placeOf(existing) };

    const owner = ownerKey(data.owner);
    let active = 0;
    let waiting = 0;
    let waitingAll = 0;
    for (const job of this.jobs.values()) {
      if (job.state === 'waiting') waitingAll++;
      if (job.owner !== owner) continue;
      if (job.state === 'active') active++;
      else if (job.state === 'waiting') waiting++;
    }
    checkUserLimit(this.limits, active, waiting);
    if (waitingAll >= this.limits.maxWaiting) throw queueFullError(this.limits.maxWaiting);

    const now = Date.now();
    const job: LocalJob = {
      id,
      data,
      owner,
      seq: ++this.seq,
      round: active + waiting,
      ticket: this.seq,
      state: 'waiting',
      attempts: 0,
      failures: 0,
      interruptions: 0,
      createdAt: now,
    };
    // In the map before the write, so a concurrent duplicate sees it.
    this.jobs.set(id, job);
    try {
      await this.journal.append({ op: 'enqueue', id, data, seq: job.seq, round: job.round, at: now });
    } catch (error) {
      this.jobs.delete(id);
      throw error;
    }
    const place = this.placeOf(job);
    this.announce();
    this.pump();
    return { id, duplicate: false, ...place };
  }

  async cancel(jobId: string): Promise<boolean> {
    const job = this.jobs.get(jobId);
    if (!job || (job.state !== 'waiting' && job.state !== 'active')) return false;
    job.state = 'cancelled';
    job.finishedAt = Date.now();
    // Stop provider calls and ffmpeg now; the processor unwinds while the journal is written.
    this.running.get(jobId)?.controller.abort(new ReelforgeError('cancelled', 'The job was cancelled.'));
    this.announced.delete(jobId);
    await this.journal.append({ op: 'finish', id: jobId, at: job.finishedAt, state: 'cancelled' });
    this.emit({ type: 'cancelled', jobId });
    this.rerank(job.owner);
    this.announce();
    this.pump();
    this.trimFinished();
    return true;
  }

  get(jobId: string): Promise<JobInfo | undefined> {
    const job = this.jobs.get(jobId);
    return Promise.resolve(job ? this.infoOf(job) : undefined);
  }

  list(): Promise<JobInfo[]> {
    const active = [...this.jobs.values()]
      .filter((j) => j.state === 'active')
      .sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0));
    const waiting = this.ordered();
    const etas = this.etas(waiting.length);
    return Promise.resolve([
      ...active.map((j) => this.infoOf(j)),
      ...waiting.map((j, i) => ({ ...this.infoOf(j, false), position: i + 1, etaSec: etas[i] ?? 0 })),
    ]);
  }

  stats(): Promise<QueueStats> {
    const stats: QueueStats = { waiting: 0, active: 0, completed: 0, failed: 0, cancelled: 0 };
    for (const job of this.jobs.values()) stats[job.state]++;
    return Promise.resolve(stats);
  }

  subscribe(listener: (event: QueueEvent) => void): () => void {
    this.listeners.add(listener);
    if (this.replayFailures.length > 0) {
      // The process that decided these failures had no listeners yet: its chats learn of them now.
      const failures = [...this.replayFailures];
      setImmediate(() => {
        for (const { jobId, error } of failures) if (this.listeners.has(listener)) listener({ type: 'failed', jobId, error });
      });
    }
    return () => this.listeners.delete(listener);
  }

  work(processor: JobProcessor): Promise<void> {
    this.assertOpen();
    if (this.processor) throw new ReelforgeError('internal', 'This queue already has a processor.');
    this.processor = processor;
    this.pump();
    return Promise.resolve();
  }

  /**
   * Stops taking jobs and interrupts running ones (their signal aborts); they are journaled back
   * to waiting and run again, from their caches, when the queue is next opened.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.wakeTimer);
    try {
      const interrupted = [...this.running.values()].filter((r) => r.job.state === 'active');
      const now = Date.now();
      await Promise.all(interrupted.map((r) => this.journal.append({ op: 'requeue', id: r.job.id, at: now })));
      for (const r of interrupted) {
        r.controller.abort(new ReelforgeError('cancelled', 'The worker is shutting down; the job will resume.', { retryable: true }));
      }
      // A processor that ignores its signal must not hold shutdown forever.
      await Promise.race([this.pq.onIdle(), new Promise((r) => setTimeout(r, 10_000).unref())]);
    } finally {
      this.listeners.clear();
      await this.journal.close();
    }
  }

  // --- running jobs -------------------------------------------------------------------------

  private pump(): void {
    if (!this.processor || this.closing) return;
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    let started = false;
    while (this.running.size < this.concurrency) {
      const job = this.nextEligible();
      if (!job) break;
      this.start(job);
      started = true;
    }
    if (started) this.announce();
    // A job in backoff becomes eligible later: wake up then.
    const now = Date.now();
    const next = Math.min(...[...this.jobs.values()].filter((j) => j.state === 'waiting' && (j.notBefore ?? 0) > now).map((j) => j.notBefore ?? 0));
    if (Number.isFinite(next) && this.running.size < this.concurrency) {
      this.wakeTimer = setTimeout(() => this.pump(), next - now + 5);
    }
  }

  private nextEligible(): LocalJob | undefined {
    const now = Date.now();
    const runningByOwner = this.runningByOwner();
    return this.ordered().find(
      (j) => (j.notBefore ?? 0) <= now && (runningByOwner.get(j.owner) ?? 0) < this.limits.userActive,
    );
  }

  private start(job: LocalJob): void {
    const processor = this.processor;
    if (!processor) return;
    job.state = 'active';
    job.attempts++;
    job.startedAt = Date.now();
    delete job.notBefore;
    this.announced.delete(job.id);
    const controller = new AbortController();
    this.running.set(job.id, { job, controller });
    void this.pq.add(() => this.run(job, controller, processor)); // run() handles every outcome itself
  }

  private async run(job: LocalJob, controller: AbortController, processor: JobProcessor): Promise<void> {
    try {
      await this.attempt(job, controller, processor);
    } catch (error) {
      // Only the journal can fail here (a full disk): the job stays as journaled and resumes on restart.
      console.warn(`queue: could not record the outcome of job ${job.id}: ${String(error)}`);
    } finally {
      this.running.delete(job.id);
      if (!this.closing) {
        this.rerank(job.owner);
        this.trimFinished();
        this.pump();
        this.announce();
      }
    }
  }

  private async attempt(job: LocalJob, controller: AbortController, processor: JobProcessor): Promise<void> {
    const startedAt = job.startedAt ?? Date.now();
    try {
      await this.journal.append({ op: 'start', id: job.id, at: startedAt });
      const result = await processor({
        id: job.id,
        data: job.data,
        attempt: job.attempts,
        lastAttempt: job.failures + 1 >= this.attempts,
        signal: controller.signal,
        progress: (event: ProgressEvent) => {
          if (job.state === 'active' && !controller.signal.aborted) this.emit({ type: 'progress', jobId: job.id, event });
        },
      });
      // Cancelled meanwhile: the cancel stands. Shut down meanwhile: the job did finish (the video may
      // already be in the chat), so it is recorded as completed rather than run again on restart.
      if (job.state !== 'active') return;
      const at = Date.now();
      await this.journal.append({ op: 'finish', id: job.id, at, state: 'completed', result });
      job.state = 'completed';
      job.finishedAt = at;
      job.result = result;
      this.recordDuration(at - startedAt);
      this.emit({ type: 'completed', jobId: job.id, result });
    } catch (thrown) {
      if (job.state !== 'active' || this.closing) return;
      const error = toReelforgeError(thrown);
      const at = Date.now();
      if (error.code === 'cancelled') {
        // The processor gave up on its own signal (not ours): it is still a cancel, not a failure.
        await this.finish(job, 'cancelled', at);
        this.emit({ type: 'cancelled', jobId: job.id });
      } else if (error.retryable && job.failures + 1 < this.attempts) {
        const notBefore = at + this.backoffMs * 2 ** job.failures;
        await this.journal.append({ op: 'retry', id: job.id, at, notBefore, error: error.toJSON() });
        job.failures++;
        job.state = 'waiting';
        job.notBefore = notBefore;
      } else {
        await this.finish(job, 'failed', at, error.toJSON());
        this.emit({ type: 'failed', jobId: job.id, error: error.toJSON() });
      }
    }
  }

  private async finish(job: LocalJob, state: 'failed' | 'cancelled', at: number, error?: ErrorJson): Promise<void> {
    await this.journal.append({ op: 'finish', id: job.id, at, state, ...(error ? { error } : {}) });
    job.state = state;
    job.finishedAt = at;
    if (error) job.error = error;
  }

  // --- order, places and events -------------------------------------------------------------

  private runningByOwner(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const job of this.jobs.values()) {
      if (job.state === 'active') counts.set(job.owner, (counts.get(job.owner) ?? 0) + 1);
    }
    return counts;
  }

  /** Waiting jobs in the order they will run. */
  private ordered(): LocalJob[] {
    return [...this.jobs.values()].filter((j) => j.state === 'waiting').sort(byRank);
  }

  /** One of the owner's jobs left: their next ones move up a round (journaled with the next write). */
  private rerank(owner: string): void {
    const running = [...this.jobs.values()].filter((j) => j.owner === owner && j.state === 'active').length;
    const theirs = this.ordered().filter((j) => j.owner === owner);
    for (const { job, round } of promotions(theirs, running)) {
      job.round = round;
      job.ticket = ++this.seq;
      // Losing a rank record costs only fairness after a crash, never a job.
      this.journal.append({ op: 'rank', id: job.id, round, ticket: job.ticket }).catch(() => undefined);
    }
  }

  private etas(count: number): number[] {
    const now = Date.now();
    const runningElapsedMs = [...this.jobs.values()].filter((j) => j.state === 'active').map((j) => now - (j.startedAt ?? now));
    return estimateEtas({
      runningElapsedMs,
      waiting: count,
      slots: this.concurrency,
      avgJobMs: averageMs(this.durationsMs, this.defaultJobMs),
    });
  }

  private placeOf(job: LocalJob): { position: number; etaSec: number } {
    if (job.state === 'active') {
      const avg = averageMs(this.durationsMs, this.defaultJobMs);
      return { position: 0, etaSec: Math.max(1, Math.ceil((avg - (Date.now() - (job.startedAt ?? Date.now()))) / 1000)) };
    }
    if (job.state !== 'waiting') return { position: 0, etaSec: 0 };
    const order = this.ordered();
    const index = order.indexOf(job);
    return { position: index + 1, etaSec: this.etas(index + 1)[index] ?? 0 };
  }

  /** Tells each waiting job its place when it changed: a 'queued' progress event. */
  private announce(): void {
    const order = this.ordered();
    const etas = this.etas(order.length);
    order.forEach((job, i) => {
      const position = i + 1;
      if (this.announced.get(job.id) === position) return;
      this.announced.set(job.id, position);
      this.emit({ type: 'progress', jobId: job.id, event: { type: 'queued', position, etaSec: etas[i] ?? 0 } });
    });
  }

  private emit(event: QueueEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        // A broken listener (a chat that cannot be edited) must not stop the queue.
        console.warn(`queue listener failed on ${event.type} of ${event.jobId}: ${String(error)}`);
      }
    }
  }

  private recordDuration(ms: number): void {
    this.durationsMs = [...this.durationsMs, ms].slice(-DURATION_SAMPLES);
  }

  private infoOf(job: LocalJob, withPlace = true): JobInfo {
    const info: JobInfo = {
      id: job.id,
      state: job.state,
      data: job.data,
      attempts: job.attempts,
      createdAt: job.createdAt,
      ...(job.startedAt !== undefined ? { startedAt: job.startedAt } : {}),
      ...(job.finishedAt !== undefined ? { finishedAt: job.finishedAt } : {}),
    };
    if (withPlace && job.state === 'waiting') {
      const place = this.placeOf(job);
      info.position = place.position;
      info.etaSec = place.etaSec;
    }
    return info;
  }

  private trimFinished(): void {
    const finished = [...this.jobs.values()].filter((j) => j.finishedAt !== undefined && (j.state === 'completed' || j.state === 'failed' || j.state === 'cancelled'));
    if (finished.length <= this.keepFinished) return;
    finished.sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0));
    for (const job of finished.slice(0, finished.length - this.keepFinished)) this.jobs.delete(job.id);
  }

  private assertOpen(): void {
    if (this.closing) throw new ReelforgeError('internal', 'The queue is closed.');
  }

  // --- recovery -----------------------------------------------------------------------------

  private replay(records: readonly JournalRecord[], maxInterruptions: number): void {
    for (const record of records) {
      switch (record.op) {
        case 'durations':
          this.durationsMs = record.samplesMs.slice(-DURATION_SAMPLES);
          break;
        case 'job':
          this.jobs.set(record.job.id, { ...record.job, owner: ownerKey(record.job.data.owner) });
          this.seq = Math.max(this.seq, record.job.seq, record.job.ticket);
          break;
        case 'enqueue':
          this.jobs.set(record.id, {
            id: record.id,
            data: record.data,
            owner: ownerKey(record.data.owner),
            seq: record.seq,
            round: record.round,
            ticket: record.seq,
            state: 'waiting',
            attempts: 0,
            failures: 0,
            interruptions: 0,
            createdAt: record.at,
          });
          this.seq = Math.max(this.seq, record.seq);
          break;
        case 'rank': {
          const job = this.jobs.get(record.id);
          if (job) {
            job.round = record.round;
            job.ticket = record.ticket;
            this.seq = Math.max(this.seq, record.ticket);
          }
          break;
        }
        case 'start': {
          const job = this.jobs.get(record.id);
          if (job && job.state === 'waiting') {
            job.state = 'active';
            job.attempts++;
            job.startedAt = record.at;
            delete job.notBefore;
          }
          break;
        }
        case 'retry': {
          const job = this.jobs.get(record.id);
          if (job && job.state === 'active') {
            job.state = 'waiting';
            job.failures++;
            job.notBefore = record.notBefore;
          }
          break;
        }
        case 'requeue': {
          const job = this.jobs.get(record.id);
          if (job && job.state === 'active') job.state = 'waiting';
          break;
        }
        case 'finish': {
          const job = this.jobs.get(record.id);
          if (!job) break;
          if (record.state === 'completed' && job.state === 'active' && job.startedAt !== undefined) {
            this.recordDuration(record.at - job.startedAt);
          }
          job.state = record.state;
          job.finishedAt = record.at;
          if (record.result) job.result = record.result;
          if (record.error) job.error = record.error;
          break;
        }
      }
    }
    // A job still active was running when the process died: run it again, unless it keeps dying.
    for (const job of this.jobs.values()) {
      if (job.state !== 'active') continue;
      job.interruptions++;
      if (job.interruptions > maxInterruptions) {
        job.state = 'failed';
        job.finishedAt = Date.now();
        job.error = new ReelforgeError('internal', 'The job was interrupted too many times and was stopped.').toJSON();
        this.replayFailures.push({ jobId: job.id, error: job.error });
      } else {
        job.state = 'waiting';
      }
    }
    this.trimFinished();
  }

  private snapshotRecords(): JournalRecord[] {
    const jobs = [...this.jobs.values()].sort((a, b) => a.seq - b.seq);
    return [
      { op: 'durations', samplesMs: this.durationsMs },
      ...jobs.map((job): JournalRecord => {
        const { owner: _owner, ...snapshot } = job;
        return { op: 'job', job: snapshot };
      }),
    ];
  }
}
