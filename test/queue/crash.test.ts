/**
 * A worker killed with SIGKILL in the middle of a job: the job still completes, once, and no step
 * that had finished (a paid provider call, cached as a marker) runs again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullMqJobQueue } from '../../src/queue/bullmq-queue.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { EventLog, jobData } from './contract.js';
import type { WorkerArgs } from './fixtures/worker.js';

interface Line {
  event: string;
  pid: number;
  at: number;
  step?: number;
  jobId?: string;
  attempt?: number;
}

const STEPS = 5;
const STEP_MS = 300;

class WorkerProcess {
  readonly lines: Line[] = [];
  readonly child: ChildProcess;
  private waiters: Array<{ match: (l: Line) => boolean; resolve: (l: Line) => void }> = [];
  stderr = '';

  constructor(args: WorkerArgs) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'test/queue/fixtures/worker.ts', JSON.stringify(args)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-4000)));
    createInterface({ input: this.child.stdout! }).on('line', (text) => {
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        return;
      }
      this.lines.push(line);
      for (const w of this.waiters.filter((w) => w.match(line))) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(line);
      }
    });
  }

  waitFor(match: (l: Line) => boolean, timeoutMs = 30_000): Promise<Line> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker ${this.child.pid}: no matching line; stderr: ${this.stderr}`)), timeoutMs);
      this.waiters.push({ match, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill(signal);
    await exited;
  }
}

let work = '';
const workers: WorkerProcess[] = [];
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'reelforge-crash-'));
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  await rm(work, { recursive: true, force: true });
});

async function readLines(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.trim().split('\n').filter(Boolean);
}

/** Every step ran; the ones that had finished before the kill ran exactly once. */
async function expectNoRepeatedCalls(dir: string, jobId: string, doneBeforeKill: number): Promise<void> {
  const calls = (await readLines(join(dir, 'calls.log'))).map((l) => l.split(' ')[1]);
  for (let step = 1; step <= STEPS; step++) {
    const count = calls.filter((c) => c === `step-${step}`).length;
    expect(count, `step ${step}`).toBe(1);
  }
  expect(doneBeforeKill).toBeGreaterThanOrEqual(2);
  expect((await readLines(join(dir, 'finished.log'))).map((l) => l.split(' ')[0])).toEqual([jobId]);
}

describe('a worker killed mid-job', () => {
  it('local: the restarted process finishes the job once, from its cached steps', async () => {
    const dir = join(work, 'local');
    const args: WorkerArgs = { mode: 'local', dir: join(dir, 'queue'), work: dir, steps: STEPS, stepMs: STEP_MS, enqueueKey: randomUUID() };
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });

    const first = new WorkerProcess(args);
    workers.push(first);
    const enqueued = await first.waitFor((l) => l.event === 'enqueued');
    const jobId = enqueued.jobId ?? '';
    await first.waitFor((l) => l.event === 'step-done' && l.step === 2);
    await first.kill('SIGKILL');
    const doneBeforeKill = first.lines.filter((l) => l.event === 'step-done').length;

    const second = new WorkerProcess(args);
    workers.push(second);
    const again = await second.waitFor((l) => l.event === 'enqueued');
    expect(again).toMatchObject({ jobId, duplicate: true }); // the same request after a restart is the same job
    const resumed = await second.waitFor((l) => l.event === 'job-start');
    expect(resumed).toMatchObject({ jobId, attempt: 2 });
    await second.waitFor((l) => l.event === 'delivered');
    expect(second.lines.filter((l) => l.event === 'step-skipped').map((l) => l.step)).toEqual(
      Array.from({ length: doneBeforeKill }, (_, i) => i + 1),
    );
    await second.kill('SIGTERM');
    await expectNoRepeatedCalls(dir, jobId, doneBeforeKill);
    expect(await readLines(join(dir, 'delivered.log'))).toHaveLength(1);
  });

  it('local: killed after sending the video, the job completes on restart without sending it again', async () => {
    const dir = join(work, 'local-sent');
    const args: WorkerArgs = { mode: 'local', dir: join(dir, 'queue'), work: dir, steps: STEPS, stepMs: STEP_MS, enqueueKey: randomUUID(), sendAfterStep: 3 };
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });

    const first = new WorkerProcess(args);
    workers.push(first);
    const { jobId } = await first.waitFor((l) => l.event === 'sent');
    await first.kill('SIGKILL');

    const second = new WorkerProcess(args);
    workers.push(second);
    await second.waitFor((l) => l.event === 'delivered' && l.jobId === jobId);
    await second.kill('SIGTERM');
    expect(second.lines.filter((l) => l.event === 'job-start')).toEqual([]);
    expect(await readLines(join(dir, 'sent.log'))).toHaveLength(1);
  });

  describe('BullMQ', () => {
    let redis: RedisServer;
    beforeAll(async () => {
      redis = await startRedisServer();
    });
    afterAll(async () => {
      await redis.stop();
    });

    /** Two worker processes on a fresh queue, both ready, and a producer on that queue. */
    async function workerPair(folder: string, extra: Partial<WorkerArgs> = {}): Promise<{ dir: string; pair: WorkerProcess[]; producer: BullMqJobQueue }> {
      const dir = join(work, folder);
      const { mkdir } = await import('node:fs/promises');
      await mkdir(dir, { recursive: true });
      const name = `crash-${randomUUID()}`;
      const args: WorkerArgs = { mode: 'bullmq', url: redis.url, name, work: dir, steps: STEPS, stepMs: STEP_MS, ...extra };
      const pair = [new WorkerProcess(args), new WorkerProcess(args)];
      workers.push(...pair);
      await Promise.all(pair.map((w) => w.waitFor((l) => l.event === 'ready')));
      return { dir, pair, producer: await BullMqJobQueue.open({ url: redis.url, name, log: () => undefined }) };
    }

    /** The worker that printed `line` (it runs the job), and the other one. */
    function victimAndSurvivor(pair: WorkerProcess[], line: Line): { victim: WorkerProcess; survivor: WorkerProcess } {
      const victim = pair.find((w) => w.child.pid === line.pid);
      const survivor = pair.find((w) => w.child.pid !== line.pid);
      if (!victim || !survivor) throw new Error('no worker ran the job');
      return { victim, survivor };
    }

    it('another worker picks the job up within seconds and finishes it once, from its cached steps', async () => {
      const { dir, pair, producer } = await workerPair('bullmq');
      try {
        const log = new EventLog(producer);
        const { id } = await producer.enqueue(jobData('ann', 'crash test'), { idempotencyKey: randomUUID() });
        const firstDone = await Promise.race(pair.map((w) => w.waitFor((l) => l.event === 'step-done' && l.step === 2)));
        const { victim, survivor } = victimAndSurvivor(pair, firstDone);
        await victim.kill('SIGKILL');
        const killedAt = Date.now();
        const doneBeforeKill = victim.lines.filter((l) => l.event === 'step-done').length;

        const resumed = await survivor.waitFor((l) => l.event === 'job-start', 40_000);
        expect(resumed).toMatchObject({ jobId: id, attempt: 2 });
        const recoveryMs = resumed.at - killedAt;
        console.log(`BullMQ stalled-job recovery: ${(recoveryMs / 1000).toFixed(1)} s (lock 10 s, stall check 5 s)`);
        expect(recoveryMs).toBeLessThan(20_000);

        expect((await log.end(id, 30_000)).type).toBe('completed');
        await new Promise((r) => setTimeout(r, 500));
        expect(log.events.filter((e) => e.type === 'completed')).toHaveLength(1);
        await expectNoRepeatedCalls(dir, id, doneBeforeKill);
        expect((await producer.get(id))?.state).toBe('completed');
      } finally {
        await producer.close();
        await Promise.all(pair.map((w) => w.kill('SIGTERM')));
      }
    });

    it('killed after sending the video, another worker completes the job without sending it again', async () => {
      const { dir, pair, producer } = await workerPair('bullmq-sent', { sendAfterStep: 3 });
      try {
        const log = new EventLog(producer);
        const { id } = await producer.enqueue(jobData('ann', 'crash test'), { idempotencyKey: randomUUID() });
        const sent = await Promise.race(pair.map((w) => w.waitFor((l) => l.event === 'sent')));
        const { victim, survivor } = victimAndSurvivor(pair, sent);
        await victim.kill('SIGKILL');

        expect((await log.end(id, 40_000)).type).toBe('completed');
        expect(survivor.lines.filter((l) => l.event === 'job-start')).toEqual([]);
        expect(await readLines(join(dir, 'sent.log'))).toHaveLength(1);
        expect((await producer.get(id))?.state).toBe('completed');
      } finally {
        await producer.close();
        await Promise.all(pair.map((w) => w.kill('SIGTERM')));
      }
    });
  });
});
