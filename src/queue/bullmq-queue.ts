/**
 * The distributed queue, used when REDIS_URL is set: bot processes enqueue and listen, worker
 * processes (`reelforge worker`) run jobs. BullMQ gives durability, retries with backoff and
 * stalled-job recovery; this adapter adds what BullMQ's open-source edition leaves out: per-user
 * limits and a global cap (the shared policy's admission, checked and added under one Redis lock so
 * it holds across processes), fair interleaving of users (priorities by the owner's round), cancel
 * of running jobs on any worker (a pub/sub channel), and place-in-line/ETA.
 */
import { DelayedError, Queue, QueueEvents, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { ownerKey } from '../core/chat-target.js';
import { ERROR_CODES, ReelforgeError, toReelforgeError, cancelled, interrupted, lostJob } from '../core/errors.js';
import type { ProgressEvent } from '../core/progress.js';
import { sleep } from '../core/sleep.js';
import { closeRedis, createRedis, redactRedisUrl, redactSecrets, type Redis } from '../redis/connection.js';
import { averageMs, DURATION_SAMPLES, estimateEtas } from './eta.js';
import { jobIdFor } from './job-id.js';
import { promotions } from './fairness.js';
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

export interface BullMqQueueOptions extends QueuePolicyOptions {
  /** REDIS_URL. */
  url: string;
  /** Queue name; each test uses its own. Default `videos`. */
  name?: string;
  /** Redis key prefix. Default `reelforge`. */
  prefix?: string;
  /**
   * Stalled-job detection: a killed worker's job runs again after about one lock duration plus up
   * to one check interval (measured: ~62 s with BullMQ's own defaults). Defaults 10 s / 5 s / 2.
   */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalledCount?: number;
  /** How long a job waits before trying again when its owner already has a job running. Default 1000 ms. */
  ownerBusyDelayMs?: number;
  /** How long `open` waits for Redis before giving up. Default 10 s. */
  connectTimeoutMs?: number;
}

type ErrorJson = ReturnType<ReelforgeError['toJSON']>;
type VideoJob = Job<VideoJobData, JobResult>;

type ControlMessage = { type: 'abort'; jobId: string } | { type: 'removed'; jobId: string };

interface CancelledRecord {
  data: VideoJobData;
  createdAt: number;
  attempts: number;
  cancelledAt: number;
}

interface ActiveJob {
  controller: AbortController;
  /** Why the signal was aborted: the owner/an admin, this worker shutting down, or its lock lost. */
  reason?: 'cancel' | 'shutdown' | 'lost';
  /** The run delivered the video with this result (also recorded in Redis): the job ends completed. */
  delivered?: JobResult;
}

const CANCELLED_TTL_SEC = 7 * 24 * 3600;
/** A delivery record outlives any run of its job (a run that finds one completes the job at once). */
const DELIVERED_TTL_SEC = 7 * 24 * 3600;
/** How long the ownership check before a delivery may wait for Redis; no answer counts as lost. */
const OWNERSHIP_CHECK_MS = 5000;
/** Admission holds its lock for milliseconds; a holder that died frees it after this. */
const ADMISSION_LOCK_MS = 5000;
/** Deletes the lock only if it is still ours (it may have expired and been taken by another). */
const RELEASE_LOCK = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

export class BullMqJobQueue implements JobQueue {
  private readonly listeners: QueueListeners;
  private readonly active = new Map<string, ActiveJob>();
  /** Jobs this process has seen progress from (or finish): later 'queued' updates for them are stale. */
  private readonly seenRunning = new Set<string>();
  private worker: Worker<VideoJobData, JobResult> | undefined;
  private workerConnection: Redis | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly workerId = randomUUID().slice(0, 8);
  private closing: Promise<void> | undefined;
  private announcing: Promise<void> | undefined;
  private announceAgain = false;
  private readonly settings: QueueSettings;
  private readonly name: string;
  private readonly prefix: string;
  private readonly log: (line: string) => void;

  private constructor(
    private readonly options: BullMqQueueOptions,
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly eventsConnection: Redis,
    private readonly queue: Queue<VideoJobData, JobResult>,
    private readonly events: QueueEvents,
  ) {
    this.name = options.name ?? 'videos';
    this.prefix = options.prefix ?? 'reelforge';
    this.settings = queueSettings(options);
    this.log = this.settings.log;
    this.listeners = new QueueListeners(this.log);
  }

  /** Connects (failing within 10 s when Redis cannot be reached) and starts listening to events. */
  static async open(options: BullMqQueueOptions): Promise<BullMqJobQueue> {
    const name = options.name ?? 'videos';
    const prefix = options.prefix ?? 'reelforge';
    const log = queueSettings(options).log;
    const redis = createRedis(options.url, { name: `reelforge:${name}`, log });
    const subscriber = createRedis(options.url, { blocking: true, name: `reelforge:${name}:control`, log });
    const eventsConnection = createRedis(options.url, { blocking: true, name: `reelforge:${name}:events`, log });
    const connections = [redis, subscriber, eventsConnection];
    try {
      await Promise.all(connections.map((c) => waitReady(c, options.url, options.connectTimeoutMs)));
      // Start reading events right after the last one that exists now: none emitted from here on is missed.
      const last = await redis.xrevrange(`${prefix}:${name}:events`, '+', '-', 'COUNT', 1);
      const lastEventId = last[0]?.[0] ?? '0-0';
      const { attempts, backoffMs } = queueSettings(options);
      const queue = new Queue<VideoJobData, JobResult>(name, {
        connection: redis,
        prefix,
        defaultJobOptions: {
          attempts,
          backoff: { type: 'exponential', delay: backoffMs },
          // Finished jobs stay a while: `get` answers, and a repeated idempotency key stays a duplicate.
          removeOnComplete: { age: 24 * 3600, count: 1000 },
          removeOnFail: { age: 7 * 24 * 3600, count: 1000 },
        },
      });
      // Without a listener BullMQ prints these to the console, past the masking logger.
      queue.on('error', (error) => log(`queue: ${redactSecrets(error instanceof Error ? error.message : String(error), options.url)}`));
      const events = new QueueEvents(name, { connection: eventsConnection, prefix, lastEventId });
      const self = new BullMqJobQueue(options, redis, subscriber, eventsConnection, queue, events);
      self.listen();
      await subscriber.subscribe(self.key('control'));
      await events.waitUntilReady();
      return self;
    } catch (error) {
      for (const c of connections) c.disconnect();
      throw error;
    }
  }

  async enqueue(data: VideoJobData, options: EnqueueOptions): Promise<Enqueued> {
    this.assertOpen();
    const id = jobIdFor(options.idempotencyKey);
    // Check and add under one lock: two processes (or two requests here) cannot both pass the check.
    const added = await this.withAdmissionLock(async () => {
      const existing = await this.queue.getJob(id);
      if (existing) return { kind: 'duplicate', job: existing } as const;
      if (await this.redis.exists(this.key(`cancelled:${id}`))) return { kind: 'cancelled' } as const;
      const owner = ownerKey(data.owner);
      const line = await this.line();
      const ownerActive = line.active.filter((j) => ownerKey(j.data.owner) === owner).length;
      const ownerWaiting = line.waiting.filter((j) => ownerKey(j.data.owner) === owner).length;
      const { round } = admit(this.settings.limits, { ownerActive, ownerWaiting, waitingAll: line.waiting.length });
      // The owner's round: their 2nd job ranks after everyone's 1st (BullMQ runs lower numbers first).
      const priority = 1 + round;
      const ahead = line.waiting.filter((j) => (j.priority || 0) <= priority && !line.delayed.has(j.id ?? '')).length;
      await this.queue.add('video', data, { jobId: id, priority });
      return { kind: 'added', line, ahead } as const;
    });
    if (added.kind === 'duplicate') return { id, duplicate: true, ...(await this.placeOf(added.job)) };
    if (added.kind === 'cancelled') return { id, duplicate: true, position: 0, etaSec: 0 };
    const etas = await this.etas(added.line.active, added.ahead + 1);
    void this.announce(); // best effort; errors are logged inside
    return { id, duplicate: false, position: added.ahead + 1, etaSec: etas[added.ahead] ?? 0 };
  }

  /** Runs `work` while holding the queue's admission lock in Redis (shared by every process). */
  private async withAdmissionLock<T>(work: () => Promise<T>): Promise<T> {
    const key = this.key('admission');
    const token = randomUUID();
    const deadline = Date.now() + 2 * ADMISSION_LOCK_MS;
    for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
      if ((await this.redis.set(key, token, 'PX', ADMISSION_LOCK_MS, 'NX')) === 'OK') break;
      if (Date.now() > deadline) {
        throw new ReelforgeError('queue_full', 'The queue is busy, try again in a moment.', { retryable: true, params: { maxWaiting: this.settings.limits.maxWaiting } });
      }
      await new Promise((resolve) => setTimeout(resolve, wait + Math.random() * wait));
    }
    try {
      return await work();
    } finally {
      await this.redis.eval(RELEASE_LOCK, 1, key, token).catch((error: unknown) => this.log(`queue admission unlock: ${this.redact(error)}`));
    }
  }

  async cancel(jobId: string): Promise<boolean> {
    const job = await this.queue.getJob(jobId);
    if (!job) return false;
    const state = await job.getState();
    if (state === 'completed' || state === 'failed' || state === 'unknown') return false;
    // Marked first: a worker that takes the job from now on (a retry, a stalled job) cancels it at once.
    const record: CancelledRecord = { data: job.data, createdAt: job.data.createdAt, attempts: job.attemptsMade, cancelledAt: Date.now() };
    await this.redis.set(this.key(`cancelled:${jobId}`), JSON.stringify(record), 'EX', CANCELLED_TTL_SEC);
    if (state !== 'active') {
      try {
        await job.remove();
        await this.publish({ type: 'removed', jobId });
        void this.rerank(ownerKey(job.data.owner)).then(() => this.announce());
        return true;
      } catch {
        // Locked: a worker took it a moment ago. Abort it there instead.
      }
    }
    await this.publish({ type: 'abort', jobId });
    return true;
  }

  async get(jobId: string): Promise<JobInfo | undefined> {
    const job = await this.queue.getJob(jobId);
    if (!job) {
      const raw = await this.redis.get(this.key(`cancelled:${jobId}`));
      if (!raw) return undefined;
      const record = JSON.parse(raw) as CancelledRecord;
      return { id: jobId, state: 'cancelled', data: record.data, attempts: record.attempts, createdAt: record.createdAt, finishedAt: record.cancelledAt };
    }
    const info = infoOf(job, stateOf(await job.getState(), job.failedReason));
    if (info.state === 'waiting') Object.assign(info, await this.placeOf(job));
    return info;
  }

  async list(): Promise<JobInfo[]> {
    const line = await this.line();
    const etas = await this.etas(line.active, line.waiting.length);
    return [
      ...line.active.sort((a, b) => (a.processedOn ?? 0) - (b.processedOn ?? 0)).map((j) => infoOf(j, 'active')),
      ...line.waiting.map((j, i) => ({ ...infoOf(j, 'waiting'), position: i + 1, etaSec: etas[i] ?? 0 })),
    ];
  }

  async stats(): Promise<QueueStats> {
    const counts = await this.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed');
    const failedJobs = (await this.queue.getFailed(0, -1)) as VideoJob[];
    const cancelledInFailed = failedJobs.filter((j) => decodeError(j.failedReason).code === 'cancelled').length;
    const removedCancelled = await this.countKeys(this.key('cancelled:*'));
    return {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
      active: counts.active ?? 0,
      completed: counts.completed ?? 0,
      failed: (counts.failed ?? 0) - cancelledInFailed,
      // Cancelled running jobs end in BullMQ's failed set and also have a marker: count markers once.
      cancelled: Math.max(removedCancelled, cancelledInFailed),
    };
  }

  subscribe(listener: (event: QueueEvent) => void): () => void {
    return this.listeners.add(listener);
  }

  async work(processor: JobProcessor): Promise<void> {
    this.assertOpen();
    if (this.worker) throw new ReelforgeError('internal', 'This queue already has a processor.');
    this.workerConnection = createRedis(this.options.url, { blocking: true, name: `reelforge:${this.name}:worker`, log: this.log });
    this.worker = new Worker<VideoJobData, JobResult>(this.name, (job, token) => this.process(job, token, processor), {
      connection: this.workerConnection,
      prefix: this.prefix,
      concurrency: this.settings.concurrency,
      lockDuration: this.options.lockDurationMs ?? 10_000,
      stalledInterval: this.options.stalledIntervalMs ?? 5_000,
      maxStalledCount: this.options.maxStalledCount ?? 2,
    });
    this.worker.on('error', (error) => this.log(`queue worker: ${this.redact(error)}`));
    // Redis says the lock is no longer ours (it expired while Redis was down or this process was
    // late): the stalled-job check gives the job to another run, so this one stops at once.
    this.worker.on('lockRenewalFailed', (jobIds: string[]) => {
      for (const jobId of jobIds) this.loseJob(jobId);
    });
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat(), 5_000);
    this.heartbeat.unref();
    await this.worker.waitUntilReady();
  }

  /** Interrupted jobs go straight back to the line (not after a stall timeout) and resume on any worker. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const entry of this.active.values()) {
      entry.reason ??= 'shutdown';
      entry.controller.abort(interrupted());
    }
    try {
      await this.worker?.close();
      await this.announcing;
      await this.redis.zrem(this.key('workers'), `${this.workerId}:${this.settings.concurrency}`).catch(() => 0);
      await this.events.close();
      await this.queue.close();
    } finally {
      this.listeners.clear();
      for (const c of [this.workerConnection, this.subscriber, this.eventsConnection]) if (c) c.disconnect();
      await closeRedis(this.redis);
    }
  }

  // --- the worker side ------------------------------------------------------------------------

  private async process(job: VideoJob, token: string | undefined, processor: JobProcessor): Promise<JobResult> {
    const id = job.id ?? '';
    // An earlier run delivered the video and then died (or lost its lock): nothing is made or sent again.
    const delivered = await this.redis.get(this.key(`delivered:${id}`));
    if (delivered) return JSON.parse(delivered) as JobResult;
    if (await this.redis.exists(this.key(`cancelled:${id}`))) {
      throw new UnrecoverableError(encodeError(cancelled()));
    }
    if (await this.ownerBusy(job)) {
      // BullMQ has no per-group concurrency: step aside and look again shortly.
      await job.moveToDelayed(Date.now() + (this.options.ownerBusyDelayMs ?? 1000), token);
      throw new DelayedError();
    }
    const entry: ActiveJob = { controller: new AbortController() };
    this.active.set(id, entry);
    // A cancel published between the check above and `active.set` reached no one: look again.
    if (await this.redis.exists(this.key(`cancelled:${id}`))) {
      this.active.delete(id);
      throw new UnrecoverableError(encodeError(cancelled()));
    }
    const startedAt = Date.now();
    void this.announce(); // everyone behind moved up
    // Progress updates go out in order, and all before the job's completion.
    let progressChain: Promise<void> = Promise.resolve();
    const progress = (event: ProgressEvent): void => {
      if (entry.controller.signal.aborted) return;
      progressChain = progressChain.then(() => job.updateProgress(event)).catch(() => undefined);
    };
    try {
      const result = await processor({
        id,
        data: job.data,
        // Failed tries plus interruptions (a killed worker), counted as the local queue counts them.
        attempt: job.attemptsMade + (job.stalledCounter ?? 0) + 1,
        // BullMQ retries while attemptsMade + 1 < attempts; stalls do not count toward that.
        lastAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
        signal: entry.controller.signal,
        progress,
        confirmOwnership: async () => {
          if (!entry.controller.signal.aborted && !(await this.stillOwns(job, token))) this.loseJob(id);
          if (entry.controller.signal.aborted) throw toReelforgeError(entry.controller.signal.reason);
        },
        recordDelivered: (delivered) => this.recordDelivered(id, entry, delivered),
      });
      await progressChain;
      if (entry.reason === 'cancel' && !entry.delivered) throw cancelled();
      await this.redis
        .multi()
        .lpush(this.key('durations'), String(Date.now() - startedAt))
        .ltrim(this.key('durations'), 0, DURATION_SAMPLES - 1)
        .exec();
      return result;
    } catch (thrown) {
      await progressChain;
      // Whatever failed after the delivery (a last edit, Redis, a shutdown), the video is in the chat.
      // A run that lost its lock cannot complete the job; the run that has it finds the record.
      if (entry.delivered) return entry.delivered;
      if (entry.reason === 'lost') {
        // Not ours to finish: if the lock is somehow still ours this puts the job back in line;
        // otherwise Redis refuses it and the run that has the job finishes it.
        await job.moveToWait(token).catch(() => undefined);
        throw new WaitingError();
      }
      if (entry.reason === 'shutdown') {
        await job.moveToWait(token);
        // Back to the front of its round, where it was, rather than behind jobs that came later.
        await job.changePriority({ priority: job.priority || 1, lifo: true }).catch(() => undefined);
        throw new WaitingError();
      }
      const error = entry.reason === 'cancel' ? cancelled() : toReelforgeError(thrown);
      // BullMQ retries a plain Error (with backoff) and fails an UnrecoverableError at once.
      if (error.code === 'cancelled' || !error.retryable) throw new UnrecoverableError(encodeError(error));
      throw new Error(encodeError(error));
    } finally {
      this.active.delete(id);
      void this.rerank(ownerKey(job.data.owner)).then(() => this.announce());
    }
  }

  /** Written before it resolves: tried again until Redis takes it (the delivery has happened) or the queue closes. */
  private async recordDelivered(jobId: string, entry: ActiveJob, result: JobResult): Promise<void> {
    entry.delivered = result;
    const body = JSON.stringify(result);
    for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.redis.set(this.key(`delivered:${jobId}`), body, 'EX', DELIVERED_TTL_SEC);
        return;
      } catch (error) {
        this.log(`queue worker: could not record the delivery of job ${jobId}: ${this.redact(error)}; trying again in ${delay} ms`);
        if (this.closing) return;
        await sleep(delay);
      }
    }
  }

  /** This run no longer owns the job: abort its signal so it stops (silently: another run has it). */
  private loseJob(jobId: string): void {
    const entry = this.active.get(jobId);
    if (!entry || entry.controller.signal.aborted) return;
    entry.reason = 'lost';
    this.log(`queue worker: lost the lock of job ${jobId}; stopping this run (the job runs again)`);
    entry.controller.abort(lostJob());
  }

  /** Whether the job's lock in Redis is still this run's (extending it); an unreachable Redis counts as no. */
  private async stillOwns(job: VideoJob, token: string | undefined): Promise<boolean> {
    if (!token) return true;
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = await Promise.race([
        job.extendLock(token, this.options.lockDurationMs ?? 10_000),
        new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), OWNERSHIP_CHECK_MS))),
      ]);
      return answer === 1;
    } catch (error) {
      this.log(`queue worker: could not check the lock of job ${job.id ?? ''}: ${this.redact(error)}`);
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** True when the owner already has `userActive` jobs that started before this one. */
  private async ownerBusy(job: VideoJob): Promise<boolean> {
    const owner = ownerKey(job.data.owner);
    const started = (j: VideoJob): [number, string] => [j.processedOn ?? 0, j.id ?? ''];
    const [myTime, myId] = started(job);
    const active = (await this.queue.getActive()) as VideoJob[];
    const earlier = active.filter((j) => {
      if (j.id === job.id || ownerKey(j.data.owner) !== owner) return false;
      const [t, i] = started(j);
      return t < myTime || (t === myTime && i < myId);
    });
    return earlier.length >= this.settings.limits.userActive;
  }

  /** After one of an owner's jobs leaves, their next ones move up a round. */
  private async rerank(owner: string): Promise<void> {
    try {
      const line = await this.line();
      const running = line.active.filter((j) => ownerKey(j.data.owner) === owner).length;
      // The shared fairness rule; a job's round is its priority less one. Delayed jobs keep theirs.
      const theirs = line.waiting
        .filter((j) => ownerKey(j.data.owner) === owner)
        .map((job) => ({ job, round: (job.priority || 1) - 1, ticket: 0 }));
      for (const { job, round } of promotions(theirs, running)) {
        if (!line.delayed.has(job.job.id ?? '')) await job.job.changePriority({ priority: round + 1 });
      }
    } catch (error) {
      if (!this.closing) this.log(`queue rerank: ${this.redact(error)}`);
    }
  }

  private async beat(): Promise<void> {
    try {
      const key = this.key('workers');
      const now = Date.now();
      await this.redis
        .multi()
        .zadd(key, now + 15_000, `${this.workerId}:${this.settings.concurrency}`)
        .zremrangebyscore(key, 0, now)
        .exec();
    } catch (error) {
      this.log(`queue heartbeat: ${this.redact(error)}`);
    }
  }

  // --- the line: order, places, ETAs ------------------------------------------------------------

  /** Active jobs, and waiting jobs in the order BullMQ will run them. */
  private async line(): Promise<{ active: VideoJob[]; waiting: VideoJob[]; delayed: Set<string> }> {
    const [active, wait, prioritized, delayed] = (await Promise.all([
      this.queue.getJobs(['active'], 0, -1, true),
      this.queue.getJobs(['wait'], 0, -1, true),
      this.queue.getJobs(['prioritized'], 0, -1, true),
      this.queue.getJobs(['delayed'], 0, -1, true),
    ])) as VideoJob[][];
    return {
      active: active ?? [],
      waiting: [...(wait ?? []), ...(prioritized ?? []), ...(delayed ?? [])],
      delayed: new Set((delayed ?? []).map((j) => j.id ?? '')),
    };
  }

  private async etas(active: readonly VideoJob[], count: number): Promise<number[]> {
    const now = Date.now();
    const [samples, workers] = await Promise.all([
      this.redis.lrange(this.key('durations'), 0, DURATION_SAMPLES - 1),
      this.redis.zrangebyscore(this.key('workers'), now, '+inf'),
    ]);
    const slots = workers.reduce((sum, member) => sum + Number(member.split(':')[1] ?? 0), 0) || this.settings.concurrency;
    return estimateEtas({
      runningElapsedMs: active.map((j) => now - (j.processedOn ?? now)),
      waiting: count,
      slots,
      avgJobMs: averageMs(samples.map(Number).filter(Number.isFinite), this.settings.defaultJobMs),
    });
  }

  private async placeOf(job: VideoJob): Promise<{ position: number; etaSec: number }> {
    const line = await this.line();
    const index = line.waiting.findIndex((j) => j.id === job.id);
    if (index < 0) return { position: 0, etaSec: 0 };
    const etas = await this.etas(line.active, index + 1);
    return { position: index + 1, etaSec: etas[index] ?? 0 };
  }

  /** Tells each waiting job its place when it changed, as a 'queued' progress event (seen by every process). */
  private announce(): Promise<void> {
    if (this.announcing) {
      this.announceAgain = true;
      return this.announcing;
    }
    this.announcing = (async () => {
      try {
        do {
          this.announceAgain = false;
          const line = await this.line();
          const etas = await this.etas(line.active, line.waiting.length);
          const byId = new Map(line.waiting.map((j) => [j.id ?? '', j]));
          // The place last told lives in the job's progress, where every process can see it.
          const lastTold = (id: string): number | undefined => {
            const progress = byId.get(id)?.progress as Partial<ProgressEvent> | number | undefined;
            return typeof progress === 'object' && progress.type === 'queued' ? progress.position : undefined;
          };
          for (const { id, position, index } of placesToAnnounce([...byId.keys()], lastTold)) {
            // The job may have started or been removed meanwhile; its next announcement will be right.
            await byId.get(id)?.updateProgress({ type: 'queued', position, etaSec: etas[index] ?? 0 }).catch(() => undefined);
          }
        } while (this.announceAgain && !this.closing);
      } catch (error) {
        if (!this.closing) this.log(`queue positions: ${this.redact(error)}`);
      } finally {
        this.announcing = undefined;
      }
    })();
    return this.announcing;
  }

  // --- events -----------------------------------------------------------------------------------

  private listen(): void {
    this.events.on('progress', ({ jobId, data }) => {
      if (typeof data !== 'object' || data === null || !('type' in data)) return;
      const event = data as ProgressEvent;
      // A place-in-line update computed just before the job started can arrive after its first
      // progress: drop it rather than show "queued" under a running job.
      if (event.type === 'queued' && this.seenRunning.has(jobId)) return;
      if (event.type !== 'queued') this.markRunning(jobId);
      this.emit({ type: 'progress', jobId, event });
    });
    this.events.on('completed', ({ jobId, returnvalue }) => {
      this.markRunning(jobId);
      this.emit({ type: 'completed', jobId, result: returnvalue as unknown as JobResult });
    });
    this.events.on('failed', ({ jobId, failedReason }) => {
      const error = decodeError(failedReason);
      this.markRunning(jobId);
      this.emit(error.code === 'cancelled' ? { type: 'cancelled', jobId } : { type: 'failed', jobId, error });
    });
    this.events.on('error', (error) => this.log(`queue events: ${this.redact(error)}`));
    this.subscriber.on('message', (_channel: string, text: string) => {
      let message: ControlMessage;
      try {
        message = JSON.parse(text) as ControlMessage;
      } catch {
        return;
      }
      if (message.type === 'removed') this.emit({ type: 'cancelled', jobId: message.jobId });
      if (message.type === 'abort') {
        const entry = this.active.get(message.jobId);
        if (entry && !entry.controller.signal.aborted) {
          entry.reason = 'cancel';
          entry.controller.abort(cancelled());
        }
      }
    });
  }

  private markRunning(jobId: string): void {
    this.seenRunning.add(jobId);
    // Bounded: only jobs of the last few minutes matter.
    if (this.seenRunning.size > 5000) this.seenRunning.delete(this.seenRunning.values().next().value ?? '');
  }

  private emit(event: QueueEvent): void {
    this.listeners.emit(event);
  }

  private async publish(message: ControlMessage): Promise<void> {
    await this.redis.publish(this.key('control'), JSON.stringify(message));
  }

  private async countKeys(pattern: string): Promise<number> {
    let cursor = '0';
    let count = 0;
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 200);
      cursor = next;
      count += keys.length;
    } while (cursor !== '0');
    return count;
  }

  /** Our own keys live beside BullMQ's, under the same prefix and queue name. */
  private key(suffix: string): string {
    return `${this.prefix}:${this.name}:rf:${suffix}`;
  }

  private redact(error: unknown): string {
    return redactSecrets(error instanceof Error ? error.message : String(error), this.options.url);
  }

  private assertOpen(): void {
    if (this.closing) throw new ReelforgeError('internal', 'The queue is closed.');
  }
}

/**
 * BullMQ carries only a string reason with a failure; the structured error travels in it as JSON
 * and is decoded on the other side (here, in any process). It never reaches a user as text.
 */
function encodeError(error: ReelforgeError): string {
  return JSON.stringify(error.toJSON());
}

function decodeError(reason: string | undefined): ErrorJson {
  try {
    const value = JSON.parse(reason ?? '') as Partial<ErrorJson>;
    if (typeof value.code === 'string' && (ERROR_CODES as readonly string[]).includes(value.code) && typeof value.message === 'string') {
      return { code: value.code, message: value.message, retryable: Boolean(value.retryable), params: value.params ?? {} };
    }
  } catch {
    // Not ours: BullMQ's own reasons, e.g. a job that stalled too often.
  }
  if (reason?.includes('stalled')) {
    return new ReelforgeError('internal', 'The job was interrupted too many times and was stopped.').toJSON();
  }
  return new ReelforgeError('internal', 'Something went wrong on our side.').toJSON();
}

function stateOf(state: string, failedReason: string | undefined): JobState {
  switch (state) {
    case 'active':
      return 'active';
    case 'completed':
      return 'completed';
    case 'failed':
      return decodeError(failedReason).code === 'cancelled' ? 'cancelled' : 'failed';
    default:
      return 'waiting';
  }
}

function infoOf(job: VideoJob, state: JobState): JobInfo {
  return {
    id: job.id ?? '',
    state,
    data: job.data,
    attempts: job.attemptsMade + (state === 'active' ? 1 : 0),
    createdAt: job.data.createdAt,
    ...(job.processedOn ? { startedAt: job.processedOn } : {}),
    ...(job.finishedOn ? { finishedAt: job.finishedOn } : {}),
  };
}

async function waitReady(client: Redis, url: string, timeoutMs = 10_000): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new ReelforgeError('config', `Could not reach Redis at ${redactRedisUrl(url)} within ${timeoutMs / 1000} s.`, { retryable: true }));
    }, timeoutMs);
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
    };
    client.on('ready', onReady);
  });
}
