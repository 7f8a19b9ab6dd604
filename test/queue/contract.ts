/**
 * The JobQueue contract: what a bot, a worker or the CLI may rely on, whichever queue runs.
 * Run by local-queue.test.ts (journal on disk) and bullmq-queue.test.ts (a real redis-server).
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ReelforgeError } from '../../src/core/errors.js';
import type { Receipt } from '../../src/core/receipt.js';
import type { Storyboard, StoryboardChange } from '../../src/pipeline/storyboard.js';
import type { JobContext, JobProcessor, JobQueue, JobResult, QueueEvent, VideoJobData } from '../../src/queue/types.js';

export interface ContractOptions {
  concurrency?: number;
  maxWaiting?: number;
  userActive?: number;
  userWaiting?: number;
  attempts?: number;
  backoffMs?: number;
  defaultJobSec?: number;
}

/**
 * Opens a queue on `store` (a journal directory, a queue name). Opening the same store again
 * after `close()` is a restart.
 */
export type MakeQueue = (store: string, options: ContractOptions) => Promise<JobQueue>;

export function jobData(user: string, topic = `topic of ${user}`): VideoJobData {
  return {
    request: { topic, durationSec: 30, lang: 'en', aspect: '9:16' },
    owner: { platform: 'telegram', userId: user },
    target: null,
    createdAt: Date.now(),
  };
}

export function fakeResult(topic: string): JobResult {
  const receipt: Receipt = {
    output: `/tmp/${topic}.mp4`,
    title: topic,
    durationSec: 30,
    width: 270,
    height: 480,
    sizeBytes: 1,
    tier: 'ultra_fast',
    segments: 1,
    offline: true,
    lang: 'en',
    llm: { calls: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0 },
    images: { generated: 0, reused: 0 },
    ttsCharacters: 0,
    costUsd: 0,
    timingsMs: {},
  };
  return { receipt };
}

/** Every event a queue emits, with a way to wait for one. */
export class EventLog {
  readonly events: QueueEvent[] = [];
  private waiters: Array<{ match: (e: QueueEvent) => boolean; resolve: (e: QueueEvent) => void }> = [];

  constructor(queue: JobQueue) {
    queue.subscribe((event) => {
      this.events.push(event);
      for (const w of this.waiters.filter((w) => w.match(event))) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(event);
      }
    });
  }

  of(jobId: string): QueueEvent[] {
    return this.events.filter((e) => e.jobId === jobId);
  }

  waitFor(match: (e: QueueEvent) => boolean, timeoutMs = 15_000): Promise<QueueEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching queue event within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ match, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  end(jobId: string, timeoutMs?: number): Promise<QueueEvent> {
    return this.waitFor((e) => e.jobId === jobId && e.type !== 'progress', timeoutMs);
  }
}

/** A processor whose jobs run until the test releases them. */
class Gate {
  readonly started: JobContext[] = [];
  private releases = new Map<string, () => void>();
  private startWaiters: Array<{ n: number; resolve: () => void }> = [];

  readonly processor: JobProcessor = async (job) => {
    this.started.push(job);
    for (const w of this.startWaiters.filter((w) => this.started.length >= w.n)) w.resolve();
    await new Promise<void>((resolve, reject) => {
      this.releases.set(job.id, resolve);
      job.signal.addEventListener('abort', () => reject(job.signal.reason as Error), { once: true });
    });
    return fakeResult(job.data.request.topic);
  };

  /** Resolves once `n` jobs have started in total. */
  waitStarted(n: number): Promise<void> {
    if (this.started.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.startWaiters.push({ n, resolve }));
  }

  release(jobId: string): void {
    this.releases.get(jobId)?.();
  }

  topics(): string[] {
    return this.started.map((j) => j.data.request.topic);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function queueContract(name: string, makeQueue: MakeQueue): void {
  describe(`JobQueue contract: ${name}`, () => {
    const open: JobQueue[] = [];
    const make = async (options: ContractOptions = {}, store = randomUUID()): Promise<JobQueue> => {
      const queue = await makeQueue(store, { backoffMs: 50, ...options });
      open.push(queue);
      return queue;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((q) => q.close()));
    });

    it('runs jobs of different users one at a time, in arrival order, and reports each result', async () => {
      const queue = await make({ concurrency: 1 });
      const log = new EventLog(queue);
      const order: string[] = [];
      let running = 0;
      let maxRunning = 0;
      await queue.work(async (job) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        order.push(job.data.request.topic);
        await sleep(30);
        running--;
        return fakeResult(job.data.request.topic);
      });
      const ids = [];
      for (const user of ['ann', 'bob', 'cat']) ids.push((await queue.enqueue(jobData(user, user), { idempotencyKey: randomUUID() })).id);
      const ends = await Promise.all(ids.map((id) => log.end(id)));
      expect(order).toEqual(['ann', 'bob', 'cat']);
      expect(maxRunning).toBe(1);
      expect(ends.map((e) => e.type)).toEqual(['completed', 'completed', 'completed']);
      const first = ends[0];
      expect(first?.type === 'completed' && first.result.receipt.title).toBe('ann');
      expect((await queue.get(ids[0] ?? ''))?.state).toBe('completed');
      expect(await queue.stats()).toMatchObject({ waiting: 0, active: 0, completed: 3 });
    });

    it('tells waiting jobs their place and an ETA, and moves them up as the line moves', async () => {
      const queue = await make({ concurrency: 1, defaultJobSec: 60 });
      const log = new EventLog(queue);
      const gate = new Gate();
      await queue.work(gate.processor);
      const a = await queue.enqueue(jobData('ann'), { idempotencyKey: randomUUID() });
      await gate.waitStarted(1);
      const b = await queue.enqueue(jobData('bob'), { idempotencyKey: randomUUID() });
      const c = await queue.enqueue(jobData('cat'), { idempotencyKey: randomUUID() });
      expect([b.position, c.position]).toEqual([1, 2]);
      // Behind one running job of ~60 s: b is done in about 2 minutes, c a minute later.
      expect(b.etaSec).toBeGreaterThan(60);
      expect(b.etaSec).toBeLessThanOrEqual(120);
      expect(c.etaSec - b.etaSec).toBeGreaterThanOrEqual(59);
      expect(await queue.get(c.id)).toMatchObject({ state: 'waiting', position: 2 });
      expect((await queue.list()).map((j) => [j.id, j.state, j.position])).toEqual([
        [a.id, 'active', undefined],
        [b.id, 'waiting', 1],
        [c.id, 'waiting', 2],
      ]);
      await log.waitFor((e) => e.jobId === c.id && e.type === 'progress' && e.event.type === 'queued' && e.event.position === 2);

      gate.release(a.id);
      await gate.waitStarted(2);
      const moved = await log.waitFor(
        (e) => e.jobId === c.id && e.type === 'progress' && e.event.type === 'queued' && e.event.position === 1,
      );
      expect(moved.type === 'progress' && moved.event.type === 'queued' && moved.event.etaSec).toBeGreaterThan(0);
      expect((await queue.list()).map((j) => [j.id, j.state, j.position])).toEqual([
        [b.id, 'active', undefined],
        [c.id, 'waiting', 1],
      ]);
      gate.release(b.id);
      await gate.waitStarted(3);
      gate.release(c.id);
      await log.end(c.id);
    });

    it('carries a storyboard and a re-make’s changes to the processor, unchanged (text only, no media)', async () => {
      const queue = await make();
      const log = new EventLog(queue);
      const seen: VideoJobData[] = [];
      await queue.work((job) => {
        seen.push(job.data);
        return Promise.resolve(fakeResult(job.data.request.topic));
      });
      const storyboard: Storyboard = {
        version: 1, title: 'Tea', topic: 'tea', language: 'en', tier: 'ultra_fast', seconds: 12, aspect: '9:16', mood: 'calm', draft: false,
        segments: [{ narration: 'Tea began in China.', picture: 'A tea bush on a misty hill', people: [], take: 2 }],
      };
      const withStoryboard = { ...jobData('ann', 'tea'), storyboard };
      const remake = { ...jobData('bob', 'tea again'), remake: { fromJobId: 'abc123', changes: [{ kind: 'reroll', scene: 1 }, { kind: 'voice', voice: 'nova' }] as StoryboardChange[] } };
      const a = await queue.enqueue(withStoryboard, { idempotencyKey: randomUUID() });
      const b = await queue.enqueue(remake, { idempotencyKey: randomUUID() });
      await Promise.all([log.end(a.id), log.end(b.id)]);
      expect(seen.find((d) => d.request.topic === 'tea')?.storyboard).toEqual(storyboard);
      expect(seen.find((d) => d.request.topic === 'tea again')?.remake).toEqual(remake.remake);
      expect((await queue.get(a.id))?.data.storyboard).toEqual(storyboard);
    });

    it('passes the processor’s progress events to subscribers, in order, before completion', async () => {
      const queue = await make();
      const log = new EventLog(queue);
      await queue.work(async (job) => {
        job.progress({ type: 'started', offline: true, tier: 'ultra_fast', segments: 3 });
        for (let done = 1; done <= 3; done++) {
          await sleep(5);
          job.progress({ type: 'count', stage: 'images', done, total: 3 });
        }
        job.progress({ type: 'stage', stage: 'render', status: 'done' });
        return fakeResult('p');
      });
      const { id } = await queue.enqueue(jobData('ann'), { idempotencyKey: randomUUID() });
      await log.end(id);
      const seen = log
        .of(id)
        .filter((e) => e.type !== 'progress' || e.event.type !== 'queued')
        .map((e) => (e.type === 'progress' ? `${e.event.type}${e.event.type === 'count' ? e.event.done : ''}` : e.type));
      expect(seen).toEqual(['started', 'count1', 'count2', 'count3', 'stage', 'completed']);
    });

    it('cancels a waiting job: it never runs and subscribers hear "cancelled"', async () => {
      const queue = await make({ concurrency: 1 });
      const log = new EventLog(queue);
      const gate = new Gate();
      await queue.work(gate.processor);
      const a = await queue.enqueue(jobData('ann'), { idempotencyKey: randomUUID() });
      await gate.waitStarted(1);
      const b = await queue.enqueue(jobData('bob'), { idempotencyKey: randomUUID() });
      const c = await queue.enqueue(jobData('cat'), { idempotencyKey: randomUUID() });
      expect(await queue.cancel(b.id)).toBe(true);
      await log.waitFor((e) => e.jobId === b.id && e.type === 'cancelled');
      expect((await queue.get(b.id))?.state).toBe('cancelled');
      expect(await queue.cancel(b.id)).toBe(false);
      expect(await queue.cancel('j-unknown')).toBe(false);
      // c moved up into b's place.
      await log.waitFor((e) => e.jobId === c.id && e.type === 'progress' && e.event.type === 'queued' && e.event.position === 1);
      gate.release(a.id);
      await gate.waitStarted(2);
      gate.release(c.id);
      await log.end(c.id);
      expect(gate.topics()).toEqual([jobData('ann').request.topic, jobData('cat').request.topic]);
    });

    it('cancels a running job: its signal aborts at once and it ends cancelled, not retried', async () => {
      const queue = await make({ attempts: 3 });
      const log = new EventLog(queue);
      const gate = new Gate();
      await queue.work(gate.processor);
      const a = await queue.enqueue(jobData('ann'), { idempotencyKey: randomUUID() });
      await gate.waitStarted(1);
      const signal = gate.started[0]?.signal;
      const aborted = new Promise<number>((resolve) => signal?.addEventListener('abort', () => resolve(Date.now())));
      const cancelledAt = Date.now();
      expect(await queue.cancel(a.id)).toBe(true);
      expect((await aborted) - cancelledAt).toBeLessThan(1000);
      expect(signal?.reason).toBeInstanceOf(ReelforgeError);
      expect((signal?.reason as ReelforgeError).code).toBe('cancelled');
      await log.waitFor((e) => e.jobId === a.id && e.type === 'cancelled');
      await sleep(300); // several backoff periods: a retry would have started by now
      expect(gate.started).toHaveLength(1);
      expect((await queue.get(a.id))?.state).toBe('cancelled');
      expect(log.of(a.id).some((e) => e.type === 'failed' || e.type === 'completed')).toBe(false);
    });

    it('retries a retryable error with backoff and then succeeds', async () => {
      const queue = await make({ attempts: 3, backoffMs: 100 });
      const log = new EventLog(queue);
      const calls: Array<{ attempt: number; at: number }> = [];
      await queue.work((job) => {
        calls.push({ attempt: job.attempt, at: Date.now() });
        if (calls.length < 3) {
          return Promise.reject(new ReelforgeError('provider_unavailable', 'The image service is not answering.', { retryable: true }));
        }
        return Promise.resolve(fakeResult('r'));
      });
      const { id } = await queue.enqueue(jobData('ann'), { idempotencyKey: randomUUID() });
      expect((await log.end(id)).type).toBe('completed');
      expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
      const gap1 = (calls[1]?.at ?? 0) - (calls[0]?.at ?? 0);
      const gap2 = (calls[2]?.at ?? 0) - (calls[1]?.at ?? 0);
      expect(gap1).toBeGreaterThanOrEqual(90);
      expect(gap2).toBeGreaterThanOrEqual(180); // exponential: the second wait is twice the first
      expect(log.of(id).some((e) => e.type === 'failed')).toBe(false);
    });

    it('fails a retryable error after the last attempt, with its code and message', async () => {
      const queue = await make({ attempts: 2 });
      const log = new EventLog(queue);
      let calls = 0;
      await queue.work(() => {
        calls++;
        return Promise.reject(new ReelforgeError('provider_unavailable', 'The image service is not answering.', { retryable: true }));
      });
      const { id } = await queue.enqueue(jobData('ann'), { idempotencyKey: randomUUID() });
      const end = await log.end(id);
      expect(calls).toBe(2);
      expect(end).toMatchObject({
        type: 'failed',
        error: { code: 'provider_unavailable', message: 'The image service is not answering.', retryable: true },
      });
      expect((await queue.get(id))?.state).toBe('failed');
    });

    it('fails a user or content error at once, without retrying', async () => {
      const queue = await make({ attempts: 3 });
      const log = new EventLog(queue);
      let calls = 0;
      await queue.work(() => {
        calls++;
        return Promise.reject(new ReelforgeError('content_policy', 'The image service refused this topic.', { params: { stage: 'images' } }));
      });
      const { id } = await queue.enqueue(jobData('ann'), { idempotencyKey: randomUUID() });
      const end = await log.end(id);
      await sleep(200);
      expect(calls).toBe(1);
      expect(end).toEqual({
        type: 'failed',
        jobId: id,
        error: { code: 'content_policy', message: 'The image service refused this topic.', retryable: false, params: { stage: 'images' } },
      });
    });

    it('treats an unknown exception as an internal error, with no detail leaking to the user', async () => {
      const queue = await make({ attempts: 3 });
      const log = new EventLog(queue);
      await queue.work(() => Promise.reject(new Error('ECONNRESET at 10.0.0.7 token=sk-secret')));
      const { id } = await queue.enqueue(jobData('ann'), { idempotencyKey: randomUUID() });
      const end = await log.end(id);
      expect(end).toMatchObject({ type: 'failed', error: { code: 'internal', retryable: false } });
      expect(JSON.stringify(end)).not.toContain('sk-secret');
    });

    it('gives the same job for the same idempotency key, and runs it once', async () => {
      const queue = await make({ concurrency: 1 });
      const log = new EventLog(queue);
      const gate = new Gate();
      const key = randomUUID();
      const first = await queue.enqueue(jobData('ann'), { idempotencyKey: key });
      const again = await queue.enqueue(jobData('ann'), { idempotencyKey: key });
      const other = await queue.enqueue(jobData('ann', 'another'), { idempotencyKey: randomUUID() });
      expect(first.duplicate).toBe(false);
      expect(again).toMatchObject({ id: first.id, duplicate: true, position: 1 });
      expect(other.id).not.toBe(first.id);
      await queue.work(gate.processor);
      await gate.waitStarted(1);
      gate.release(first.id);
      await log.end(first.id);
      expect((await queue.enqueue(jobData('ann'), { idempotencyKey: key })).duplicate).toBe(true);
      await gate.waitStarted(2);
      gate.release(other.id);
      await log.end(other.id);
      expect(gate.started.map((j) => j.id)).toEqual([first.id, other.id]);
    });

    it('interleaves users: another user’s job runs second, not behind a heavy user’s three', async () => {
      const queue = await make({ concurrency: 1, userActive: 1, userWaiting: 2 });
      const log = new EventLog(queue);
      const gate = new Gate();
      const heavy = [];
      for (let i = 1; i <= 3; i++) heavy.push(await queue.enqueue(jobData('heavy', `heavy ${i}`), { idempotencyKey: randomUUID() }));
      const light = await queue.enqueue(jobData('light', 'light 1'), { idempotencyKey: randomUUID() });
      expect(heavy.map((h) => h.position)).toEqual([1, 2, 3]);
      expect(light.position).toBe(2);
      expect((await queue.list()).map((j) => j.data.request.topic)).toEqual(['heavy 1', 'light 1', 'heavy 2', 'heavy 3']);

      const refused = await queue.enqueue(jobData('heavy', 'heavy 4'), { idempotencyKey: randomUUID() }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ReelforgeError);
      expect(refused).toMatchObject({ code: 'user_limit', params: { limit: 3 } });

      await queue.work(gate.processor);
      for (let n = 1; n <= 4; n++) {
        await gate.waitStarted(n);
        const job = gate.started[n - 1];
        gate.release(job?.id ?? '');
        await log.end(job?.id ?? '');
      }
      expect(gate.topics()).toEqual(['heavy 1', 'light 1', 'heavy 2', 'heavy 3']);
    });

    it('runs at most one job per user at a time, even with free workers', async () => {
      const queue = await make({ concurrency: 2, userActive: 1, userWaiting: 2 });
      const log = new EventLog(queue);
      const gate = new Gate();
      await queue.work(gate.processor);
      const a1 = await queue.enqueue(jobData('ann', 'ann 1'), { idempotencyKey: randomUUID() });
      const a2 = await queue.enqueue(jobData('ann', 'ann 2'), { idempotencyKey: randomUUID() });
      const b1 = await queue.enqueue(jobData('bob', 'bob 1'), { idempotencyKey: randomUUID() });
      await gate.waitStarted(2);
      await sleep(400);
      expect(gate.topics().sort()).toEqual(['ann 1', 'bob 1']);
      gate.release(a1.id);
      await log.end(a1.id);
      await gate.waitStarted(3);
      expect(gate.topics()[2]).toBe('ann 2');
      gate.release(a2.id);
      gate.release(b1.id);
      await Promise.all([log.end(a2.id), log.end(b1.id)]);
    });

    it('refuses new jobs when the line is full, with a retryable "queue_full"', async () => {
      const queue = await make({ maxWaiting: 2 });
      await queue.enqueue(jobData('ann'), { idempotencyKey: randomUUID() });
      await queue.enqueue(jobData('bob'), { idempotencyKey: randomUUID() });
      const refused = await queue.enqueue(jobData('cat'), { idempotencyKey: randomUUID() }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ReelforgeError);
      expect(refused).toMatchObject({ code: 'queue_full', retryable: true, message: 'The queue is full, try again in a few minutes.' });
      expect(await queue.stats()).toMatchObject({ waiting: 2 });
    });

    it('completes a job whose run recorded its delivery and then failed: it is not tried again', async () => {
      const queue = await make({ attempts: 3 });
      const log = new EventLog(queue);
      const runs: string[] = [];
      await queue.work(async (job) => {
        runs.push(job.id);
        expect(typeof job.recordDelivered).toBe('function');
        await job.recordDelivered?.(fakeResult('delivered'));
        throw new ReelforgeError('provider_unavailable', 'The last edit failed.', { retryable: true });
      });
      const a = await queue.enqueue(jobData('ann'), { idempotencyKey: randomUUID() });
      const end = await log.end(a.id);
      expect(end).toMatchObject({ type: 'completed', result: { receipt: { title: 'delivered' } } });
      await sleep(200);
      expect(runs).toEqual([a.id]);
      expect((await queue.get(a.id))?.state).toBe('completed');
    });

    it('completes a job whose run recorded its delivery before a restart, without running it again', async () => {
      const store = randomUUID();
      const first = await make({ concurrency: 1 }, store);
      let recorded!: () => void;
      const wasRecorded = new Promise<void>((resolve) => (recorded = resolve));
      await first.work(async (job) => {
        await job.recordDelivered?.(fakeResult('delivered'));
        recorded();
        // Still busy (a last progress edit) when the process stops.
        await new Promise<never>((_, reject) => job.signal.addEventListener('abort', () => reject(job.signal.reason as Error), { once: true }));
        throw new Error('unreachable');
      });
      const a = await first.enqueue(jobData('ann'), { idempotencyKey: randomUUID() });
      await wasRecorded;
      await first.close();

      const second = await make({ concurrency: 1 }, store);
      const runs: string[] = [];
      await second.work((job) => {
        runs.push(job.id);
        return Promise.resolve(fakeResult('made again'));
      });
      await sleep(500);
      const info = await second.get(a.id);
      expect(info?.state).toBe('completed');
      expect(runs).toEqual([]);
    });

    it('survives a restart mid-job: the running and the waiting job both complete, exactly once', async () => {
      const store = randomUUID();
      const first = await make({ concurrency: 1 }, store);
      const gate = new Gate();
      await first.work(gate.processor);
      const a = await first.enqueue(jobData('ann'), { idempotencyKey: randomUUID() });
      const b = await first.enqueue(jobData('bob'), { idempotencyKey: randomUUID() });
      await gate.waitStarted(1);
      const firstSignal = gate.started[0]?.signal;
      await first.close();
      expect(firstSignal?.aborted).toBe(true);

      const second = await make({ concurrency: 1 }, store);
      const log = new EventLog(second);
      expect((await second.list()).map((j) => [j.id, j.state])).toEqual([
        [a.id, 'waiting'],
        [b.id, 'waiting'],
      ]);
      const runs: string[] = [];
      await second.work((job) => {
        runs.push(job.id);
        return Promise.resolve(fakeResult(job.data.request.topic));
      });
      await Promise.all([log.end(a.id), log.end(b.id)]);
      await sleep(200);
      expect(runs).toEqual([a.id, b.id]);
      expect(log.events.filter((e) => e.type === 'completed').map((e) => e.jobId)).toEqual([a.id, b.id]);
      expect((await second.get(a.id))?.state).toBe('completed');
    });
  });
}
