/**
 * The single-machine queue, used when REDIS_URL is not set. p-queue runs jobs with bounded
 * concurrency. Every state change is a journal record, and one reducer (`apply`) turns records into
 * state, for live changes and for the replay on open alike: a change is written (fsynced) first and
 * applied only then, so memory never runs ahead of the disk. After a crash or restart each unfinished
 * job (waiting or running) runs again, in its place. Admission, places and listeners follow the
 * shared policy (policy.ts).
 */
import PQueue from 'p-queue';
import { ownerKey } from '../core/chat-target.js';
import { ReelforgeError, toReelforgeError, cancelled, interrupted } from '../core/errors.js';
import type { ProgressEvent } from '../core/progress.js';
import { averageMs, DURATION_SAMPLES, estimateEtas } from './eta.js';
import { byRank, promotions } from './fairness.js';
import { jobIdFor } from './job-id.js';
import { Journal, journalPath } from './journal.js';
import { admit, placesToAnnounce, QueueListeners, queueSettings, type QueuePolicyOptions, type QueueSettings } from './policy.js';
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

export interface LocalQueueOptions extends QueuePolicyOptions {
  /** Directory of the journal, e.g. `${DATA_DIR}/queue`. */
  dir: string;
  /** How long to wait before writing again after the journal refused a write (a full disk). Default 1000 ms, doubling to 30 s. */
  journalRetryMs?: number;
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
  /** The run delivered the video with this result: the job completes with it and never runs again. */
  delivered?: JobResult;
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
  | { op: 'delivered'; id: string; at: number; result: JobResult }
  | { op: 'finish'; id: string; at: number; state: 'completed' | 'failed' | 'cancelled'; result?: JobResult; error?: ErrorJson };

interface Running {
  job: LocalJob;
  controller: AbortController;
}

export class LocalJobQueue implements JobQueue {
  private readonly jobs = new Map<string, LocalJob>();
  private readonly running = new Map<string, Running>();
  /** Enqueues whose record is being written: counted by admission, joined by a duplicate. */
  private readonly enqueuing = new Map<string, { owner: string; done: Promise<void> }>();
  private readonly listeners: QueueListeners;
  /** Jobs the replay gave up on (they kept killing the process): told to every subscriber, once each. */
  private readonly replayFailures: Array<{ jobId: string; error: ErrorJson }> = [];
  /** The last place told to each waiting job, so only changes are announced. */
  private readonly announced = new Map<string, number>();
  private durationsMs: number[] = [];
  private seq = 0;
  private processor: JobProcessor | undefined;
  private closing = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  /** Not before this time does `pump` try to start a job again: the journal refused the last start. */
  private journalBackoffUntil = 0;
  private journalFailures = 0;
  private readonly pq: PQueue;
  private readonly settings: QueueSettings;
  private readonly keepFinished: number;
  private readonly journalRetryMs: number;

  private constructor(
    private readonly journal: Journal<JournalRecord>,
    options: LocalQueueOptions,
  ) {
    this.settings = queueSettings(options);
    this.listeners = new QueueListeners(this.settings.log);
    this.keepFinished = options.keepFinished ?? 1000;
    this.journalRetryMs = options.journalRetryMs ?? 1000;
    this.pq = new PQueue({ concurrency: this.settings.concurrency });
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
    const pending = this.enqueuing.get(id);
    if (pending) await pending.done;
    const existing = this.jobs.get(id);
    if (existing) return { id, duplicate: true, ...this.placeOf(existing) };

    const owner = ownerKey(data.owner);
    const counts = { ownerActive: 0, ownerWaiting: 0, waitingAll: 0 };
    for (const job of this.jobs.values()) {
      if (job.state === 'waiting') counts.waitingAll++;
      if (job.owner !== owner) continue;
      if (job.state === 'active') counts.ownerActive++;
      else if (job.state === 'waiting') counts.ownerWaiting++;
    }
    for (const other of this.enqueuing.values()) {
      counts.waitingAll++;
      if (other.owner === owner) counts.ownerWaiting++;
    }
    const { round } = admit(this.settings.limits, counts);
    const seq = ++this.seq;
    const done = this.commit({ op: 'enqueue', id, data, seq, round, at: Date.now() }).then(() => undefined);
    this.enqueuing.set(id, { owner, done });
    try {
      await done;
    } finally {
      this.enqueuing.delete(id);
    }
    const job = this.jobs.get(id);
    if (!job) throw new ReelforgeError('internal', 'The job vanished while it was enqueued.');
    const place = this.placeOf(job);
    this.announce();
    this.pump();
    return { id, duplicate: false, ...place };
  }

  /** Written first: when the journal refuses the record the job goes on as it was and this rejects. */
  async cancel(jobId: string): Promise<boolean> {
    const job = this.jobs.get(jobId);
    if (!job || (job.state !== 'waiting' && job.state !== 'active')) return false;
    if (!(await this.commit({ op: 'finish', id: jobId, at: Date.now(), state: 'cancelled' }))) return false;
    // Stop provider calls and ffmpeg now; the processor unwinds on its own.
    this.running.get(jobId)?.controller.abort(cancelled());
    this.announced.delete(jobId);
    this.listeners.emit({ type: 'cancelled', jobId });
    await this.rerank(job.owner);
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
    const unsubscribe = this.listeners.add(listener);
    if (this.replayFailures.length > 0) {
      // The process that decided these failures had no listeners yet: its chats learn of them now.
      const failures = [...this.replayFailures];
      setImmediate(() => {
        for (const { jobId, error } of failures) if (this.listeners.has(listener)) listener({ type: 'failed', jobId, error });
      });
    }
    return unsubscribe;
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
      const resuming = [...this.running.values()].filter((r) => r.job.state === 'active');
      const now = Date.now();
      await Promise.all(
        resuming.map((r) =>
          this.commit(
            r.job.delivered
              ? { op: 'finish', id: r.job.id, at: now, state: 'completed', result: r.job.delivered }
              : { op: 'requeue', id: r.job.id, at: now },
          ).catch((error: unknown) => {
            // Still journaled as running: the replay runs it again all the same.
            this.settings.log(`queue: could not record the interruption of job ${r.job.id}: ${describe(error)}`);
          }),
        ),
      );
      for (const r of resuming) {
        r.controller.abort(interrupted());
      }
      // A processor that ignores its signal must not hold shutdown forever.
      await Promise.race([this.pq.onIdle(), new Promise((r) => setTimeout(r, 10_000).unref())]);
    } finally {
      this.listeners.clear();
      await this.journal.close();
    }
  }

  // --- the one way state changes: write the record, then apply it -------------------------------

  /** Appends `record` (durable when this resolves) and applies it; false when it no longer applied. */
  private async commit(record: JournalRecord): Promise<boolean> {
    await this.journal.append(record);
    return this.apply(record);
  }

  /**
   * Like `commit`, for an outcome that has happened (a job finished): a refused write is tried
   * again with backoff until it is durable or the queue closes. Meanwhile the job stays what the
   * disk says it is (running); if the process ends first, it runs again after the restart.
   */
  private async commitOutcome(record: JournalRecord & { id: string }): Promise<boolean> {
    for (let delay = this.journalRetryMs; ; delay = Math.min(delay * 2, 30_000)) {
      try {
        return await this.commit(record);
      } catch (error) {
        this.settings.log(`queue: could not record the outcome of job ${record.id} (${describe(error)}); trying again in ${delay} ms`);
        if (this.closing) return false;
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (this.closing) return false;
      }
    }
  }

  /** The reducer: every record, live or replayed, changes state here and only here. */
  private apply(record: JournalRecord): boolean {
    switch (record.op) {
      case 'durations':
        this.durationsMs = record.samplesMs.slice(-DURATION_SAMPLES);
        return true;
      case 'job':
        this.jobs.set(record.job.id, { ...record.job, owner: ownerKey(record.job.data.owner) });
        this.seq = Math.max(this.seq, record.job.seq, record.job.ticket);
        return true;
      case 'enqueue':
        this.seq = Math.max(this.seq, record.seq);
        if (this.jobs.has(record.id)) return false;
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
        return true;
      case 'rank': {
        this.seq = Math.max(this.seq, record.ticket);
        const job = this.jobs.get(record.id);
        if (job?.state !== 'waiting') return false;
        job.round = record.round;
        job.ticket = record.ticket;
        return true;
      }
      case 'start': {
        const job = this.jobs.get(record.id);
        if (job?.state !== 'waiting') return false;
        job.state = 'active';
        job.attempts++;
        job.startedAt = record.at;
        delete job.notBefore;
        this.announced.delete(job.id);
        return true;
      }
      case 'retry': {
        const job = this.jobs.get(record.id);
        if (job?.state !== 'active') return false;
        job.state = 'waiting';
        job.failures++;
        job.notBefore = record.notBefore;
        return true;
      }
      case 'requeue': {
        const job = this.jobs.get(record.id);
        if (job?.state !== 'active') return false;
        job.state = 'waiting';
        return true;
      }
      case 'delivered': {
        const job = this.jobs.get(record.id);
        if (job?.state !== 'active') return false;
        job.delivered = record.result;
        return true;
      }
      case 'finish': {
        const job = this.jobs.get(record.id);
        if (!job || (job.state !== 'waiting' && job.state !== 'active')) return false;
        if (record.state === 'completed' && job.startedAt !== undefined) this.recordDuration(record.at - job.startedAt);
        job.state = record.state;
        job.finishedAt = record.at;
        if (record.result) job.result = record.result;
        if (record.error) job.error = record.error;
        return true;
      }
    }
  }

  // --- running jobs -------------------------------------------------------------------------

  private pump(): void {
    if (!this.processor || this.closing) return;
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    const now = Date.now();
    if (this.journalBackoffUntil <= now) {
      while (this.running.size < this.settings.concurrency) {
        const job = this.nextEligible();
        if (!job) break;
        this.start(job);
      }
    }
    // A job in backoff (or a journal that refused a write) becomes eligible later: wake up then.
    const times = [...this.jobs.values()].filter((j) => j.state === 'waiting' && (j.notBefore ?? 0) > now).map((j) => j.notBefore ?? 0);
    if (this.journalBackoffUntil > now) times.push(this.journalBackoffUntil);
    const next = Math.min(...times);
    if (Number.isFinite(next) && this.running.size < this.settings.concurrency) {
      this.wakeTimer = setTimeout(() => this.pump(), next - now + 5);
    }
  }

  private nextEligible(): LocalJob | undefined {
    const now = Date.now();
    const runningByOwner = this.runningByOwner();
    return this.ordered().find(
      (j) => !this.running.has(j.id) && (j.notBefore ?? 0) <= now && (runningByOwner.get(j.owner) ?? 0) < this.settings.limits.userActive,
    );
  }

  /** Takes a slot for the job at once; the job becomes active once its start is durable. */
  private start(job: LocalJob): void {
    const processor = this.processor;
    if (!processor) return;
    const controller = new AbortController();
    this.running.set(job.id, { job, controller });
    void this.pq.add(() => this.run(job, controller, processor)); // run() handles every outcome itself
  }

  private async run(job: LocalJob, controller: AbortController, processor: JobProcessor): Promise<void> {
    try {
      let started: boolean;
      try {
        started = await this.commit({ op: 'start', id: job.id, at: Date.now() });
        this.journalFailures = 0;
      } catch (error) {
        // The job never started: it waits, and starts are tried again after a pause.
        const delay = Math.min(this.journalRetryMs * 2 ** this.journalFailures++, 30_000);
        this.journalBackoffUntil = Date.now() + delay;
        this.settings.log(`queue: could not record the start of job ${job.id} (${describe(error)}); trying again in ${delay} ms`);
        return;
      }
      if (!started) return; // cancelled while its start was written
      if (this.closing) {
        // Shut down while its start was written: back in line for the next run, without starting.
        await this.commit({ op: 'requeue', id: job.id, at: Date.now() }).catch((error: unknown) => {
          this.settings.log(`queue: could not record the interruption of job ${job.id}: ${describe(error)}`);
        });
        return;
      }
      this.announce();
      await this.attempt(job, controller, processor);
    } finally {
      this.running.delete(job.id);
      if (!this.closing) {
        await this.rerank(job.owner);
        this.trimFinished();
        this.pump();
        this.announce();
      }
    }
  }

  private async attempt(job: LocalJob, controller: AbortController, processor: JobProcessor): Promise<void> {
    const startedAt = job.startedAt ?? Date.now();
    let result: JobResult;
    try {
      // Delivered before a crash: nothing is made or sent again.
      result =
        job.delivered ??
        (await processor({
          id: job.id,
          data: job.data,
          attempt: job.attempts,
          lastAttempt: job.failures + 1 >= this.settings.attempts,
          signal: controller.signal,
          progress: (event: ProgressEvent) => {
            if (job.state === 'active' && !controller.signal.aborted) this.listeners.emit({ type: 'progress', jobId: job.id, event });
          },
          recordDelivered: (delivered) => this.recordDelivered(job, delivered),
        }));
    } catch (thrown) {
      if (job.state !== 'active' || this.closing) return;
      if (job.delivered) {
        // Whatever failed after the delivery (a last edit, a cleanup), the video is in the chat.
        if (await this.commitOutcome({ op: 'finish', id: job.id, at: Date.now(), state: 'completed', result: job.delivered })) {
          this.listeners.emit({ type: 'completed', jobId: job.id, result: job.delivered });
        }
        return;
      }
      const error = toReelforgeError(thrown);
      const at = Date.now();
      if (error.code === 'cancelled') {
        // The processor gave up on its own signal (not ours): it is still a cancel, not a failure.
        if (await this.commitOutcome({ op: 'finish', id: job.id, at, state: 'cancelled' })) this.listeners.emit({ type: 'cancelled', jobId: job.id });
      } else if (error.retryable && job.failures + 1 < this.settings.attempts) {
        const notBefore = at + this.settings.backoffMs * 2 ** job.failures;
        await this.commitOutcome({ op: 'retry', id: job.id, at, notBefore, error: error.toJSON() });
      } else if (await this.commitOutcome({ op: 'finish', id: job.id, at, state: 'failed', error: error.toJSON() })) {
        this.listeners.emit({ type: 'failed', jobId: job.id, error: error.toJSON() });
      }
      return;
    }
    // Cancelled meanwhile: the cancel stands. Shut down meanwhile (requeued): the job did finish (the
    // video may already be in the chat), so it is recorded as completed rather than run again on restart.
    if (job.state !== 'active' && !(this.closing && job.state === 'waiting')) return;
    const at = Date.now();
    if (job.startedAt === undefined) job.startedAt = startedAt;
    if (await this.commitOutcome({ op: 'finish', id: job.id, at, state: 'completed', result })) {
      this.listeners.emit({ type: 'completed', jobId: job.id, result });
    }
  }

  /** Durable before it resolves; a refused write is tried again (the delivery has happened). */
  private async recordDelivered(job: LocalJob, result: JobResult): Promise<void> {
    if (job.state !== 'active') return;
    await this.commitOutcome({ op: 'delivered', id: job.id, at: Date.now(), result });
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

  /** One of the owner's jobs left: their next ones move up a round. */
  private async rerank(owner: string): Promise<void> {
    const running = [...this.jobs.values()].filter((j) => j.owner === owner && j.state === 'active').length;
    const theirs = this.ordered().filter((j) => j.owner === owner);
    for (const { job, round } of promotions(theirs, running)) {
      // A refused rank record costs only fairness, never a job: the job keeps its place.
      await this.commit({ op: 'rank', id: job.id, round, ticket: ++this.seq }).catch((error: unknown) => {
        this.settings.log(`queue: could not record the new place of job ${job.id}: ${describe(error)}`);
      });
    }
  }

  private etas(count: number): number[] {
    const now = Date.now();
    const runningElapsedMs = [...this.jobs.values()].filter((j) => j.state === 'active').map((j) => now - (j.startedAt ?? now));
    return estimateEtas({
      runningElapsedMs,
      waiting: count,
      slots: this.settings.concurrency,
      avgJobMs: averageMs(this.durationsMs, this.settings.defaultJobMs),
    });
  }

  private placeOf(job: LocalJob): { position: number; etaSec: number } {
    if (job.state === 'active') {
      const avg = averageMs(this.durationsMs, this.settings.defaultJobMs);
      return { position: 0, etaSec: Math.max(1, Math.ceil((avg - (Date.now() - (job.startedAt ?? Date.now()))) / 1000)) };
    }
    if (job.state !== 'waiting') return { position: 0, etaSec: 0 };
    const order = this.ordered();
    const index = order.indexOf(job);
    return { position: index + 1, etaSec: this.etas(index + 1)[index] ?? 0 };
  }

  /** Tells each waiting job its place when it changed: a 'queued' progress event. */
  private announce(): void {
    // A job whose start is being written is leaving the line: it is not told a place.
    const order = this.ordered().filter((j) => !this.running.has(j.id));
    const etas = this.etas(order.length);
    for (const { id, position, index } of placesToAnnounce(order.map((j) => j.id), (jobId) => this.announced.get(jobId))) {
      this.announced.set(id, position);
      this.listeners.emit({ type: 'progress', jobId: id, event: { type: 'queued', position, etaSec: etas[index] ?? 0 } });
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
    for (const record of records) this.apply(record);
    // A job still active was running when the process died: run it again, unless it keeps dying.
    for (const job of this.jobs.values()) {
      if (job.state !== 'active') continue;
      if (job.delivered) {
        // Its video reached the chat before the crash: it completes on its next run, sending nothing.
        job.state = 'waiting';
        continue;
      }
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

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
