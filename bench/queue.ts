/**
 * Queue benchmarks: the jobs per second each queue itself sustains (a no-op processor, a full line
 * of 50 waiting jobs, journal fsyncs and Redis round trips included), and how long BullMQ takes to
 * run a job again after its worker is killed with SIGKILL.
 *
 *   node bin/run-ts.mjs bench/queue.ts
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { BullMqJobQueue } from '../src/queue/bullmq-queue.js';
import { LocalJobQueue } from '../src/queue/local-queue.js';
import type { JobQueue } from '../src/queue/types.js';
import { startRedisServer } from '../test/helpers/redis-server.js';
import { fakeResult, jobData } from '../test/queue/contract.js';
import type { WorkerArgs } from '../test/queue/fixtures/worker.js';

export interface QueueBenchResult {
  local: Throughput;
  bullmq: Throughput;
  /** Seconds from SIGKILL of the worker running a job to another worker starting it. */
  bullmqRecoverySec: number[];
}

export interface Throughput {
  jobs: number;
  concurrency: number;
  seconds: number;
  jobsPerSec: number;
}

const WINDOW = 50; // the default MAX_WAITING_JOBS: the line is kept full

/** Enqueues `jobs` jobs from distinct users, keeping `WINDOW` outstanding, until all completed. */
async function throughput(queue: JobQueue, jobs: number, concurrency: number): Promise<Throughput> {
  let done = 0;
  let finishAll: () => void = () => undefined;
  const allDone = new Promise<void>((r) => (finishAll = r));
  let release: (() => void) | undefined;
  queue.subscribe((event) => {
    if (event.type === 'completed' || event.type === 'failed') {
      done++;
      release?.();
      if (done === jobs) finishAll();
    }
  });
  await queue.work((job) => Promise.resolve(fakeResult(job.data.request.topic)));
  const started = performance.now();
  for (let i = 0; i < jobs; i++) {
    while (i - done >= WINDOW) await new Promise<void>((r) => (release = r));
    await queue.enqueue(jobData(`user${i}`, `job ${i}`), { idempotencyKey: randomUUID() });
  }
  await allDone;
  const seconds = (performance.now() - started) / 1000;
  return { jobs, concurrency, seconds: round(seconds), jobsPerSec: round(jobs / seconds) };
}

async function stalledRecovery(url: string, trials: number): Promise<number[]> {
  const results: number[] = [];
  const work = await mkdtemp(join(tmpdir(), 'reelforge-bench-'));
  try {
    for (let t = 0; t < trials; t++) {
      const name = `bench-stall-${randomUUID()}`;
      const args: WorkerArgs = { mode: 'bullmq', url, name, work, steps: 1, stepMs: 60_000 };
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/queue/fixtures/worker.ts', JSON.stringify(args)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const lines = createInterface({ input: child.stdout });
      const waitLine = (event: string): Promise<void> =>
        new Promise((resolve) => lines.on('line', (l) => l.includes(`"event":"${event}"`) && resolve()));
      const ready = waitLine('ready');
      const jobStarted = waitLine('job-start');
      await ready;
      const survivor = await BullMqJobQueue.open({ url, name, log: () => undefined });
      try {
        await survivor.enqueue(jobData('ann'), { idempotencyKey: randomUUID() });
        await jobStarted;
        // Only now a second worker: the job must have been taken by the one about to die.
        let resumedAt = 0;
        const resumed = new Promise<void>((resolve) => {
          void survivor.work(() => {
            resumedAt ||= Date.now();
            resolve();
            return Promise.resolve(fakeResult('resumed'));
          });
        });
        const killed = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        const killedAt = Date.now();
        await killed;
        await resumed;
        results.push(round((resumedAt - killedAt) / 1000));
      } finally {
        await survivor.close();
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return results;
}

export async function benchQueue(options: { jobs?: number; concurrency?: number; recoveryTrials?: number } = {}): Promise<QueueBenchResult> {
  const jobs = options.jobs ?? 1000;
  const concurrency = options.concurrency ?? 4;
  const dir = await mkdtemp(join(tmpdir(), 'reelforge-bench-queue-'));
  const redis = await startRedisServer();
  try {
    const local = await LocalJobQueue.open({ dir, concurrency });
    const localResult = await throughput(local, jobs, concurrency).finally(() => local.close());
    const bull = await BullMqJobQueue.open({ url: redis.url, name: `bench-${randomUUID()}`, concurrency, log: () => undefined });
    const bullResult = await throughput(bull, Math.min(jobs, 500), concurrency).finally(() => bull.close());
    const bullmqRecoverySec = await stalledRecovery(redis.url, options.recoveryTrials ?? 2);
    return { local: localResult, bullmq: bullResult, bullmqRecoverySec };
  } finally {
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await benchQueue();
  console.log('queue throughput (no-op jobs, 50 waiting, distinct users):');
  for (const [name, r] of [['local (journal, fsync)', result.local], ['BullMQ (redis-server)', result.bullmq]] as const) {
    console.log(`  ${name.padEnd(24)} ${String(r.jobsPerSec).padStart(7)} jobs/s  (${r.jobs} jobs, concurrency ${r.concurrency}, ${r.seconds} s)`);
  }
  console.log(`BullMQ recovery after SIGKILL of the worker: ${result.bullmqRecoverySec.map((s) => `${s} s`).join(', ')} (lock 10 s, stall check 5 s)`);
}
