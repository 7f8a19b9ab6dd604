import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalJobQueue } from '../../src/queue/local-queue.js';
import { ReelforgeError } from '../../src/core/errors.js';
import { EventLog, fakeResult, jobData, queueContract } from './contract.js';
import { waitFor } from '../helpers/wait-for.js';

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'reelforge-local-queue-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

queueContract('local (p-queue + journal)', (store, options) => LocalJobQueue.open({ dir: join(root, store), ...options }));

describe('LocalJobQueue journal', () => {
  it('keeps the journal short: on open it is compacted to what is still needed', async () => {
    const dir = join(root, randomUUID());
    const queue = await LocalJobQueue.open({ dir });
    const log = new EventLog(queue);
    await queue.work((job) => Promise.resolve(fakeResult(job.data.request.topic)));
    for (const user of ['ann', 'bob', 'cat']) {
      const { id } = await queue.enqueue(jobData(user), { idempotencyKey: randomUUID() });
      await log.end(id);
    }
    await queue.close();
    const before = (await readFile(join(dir, 'journal.jsonl'), 'utf8')).trim().split('\n');
    expect(before.length).toBeGreaterThanOrEqual(9); // enqueue, start, finish per job

    const reopened = await LocalJobQueue.open({ dir });
    const after = (await readFile(join(dir, 'journal.jsonl'), 'utf8')).trim().split('\n');
    expect(after).toHaveLength(4); // the measured durations, then one record per remembered job
    expect(await reopened.stats()).toMatchObject({ completed: 3, waiting: 0 });
    await reopened.close();
  });

  it('ignores a torn last line left by a crash in the middle of a write', async () => {
    const dir = join(root, randomUUID());
    const queue = await LocalJobQueue.open({ dir });
    const { id } = await queue.enqueue(jobData('ann'), { idempotencyKey: randomUUID() });
    await queue.close();
    const { appendFile } = await import('node:fs/promises');
    await appendFile(join(dir, 'journal.jsonl'), '{"op":"enqueue","id":"jtorn","da');
    const reopened = await LocalJobQueue.open({ dir });
    expect((await reopened.list()).map((j) => j.id)).toEqual([id]);
    await reopened.close();
  });

  it('records a job that finished while the queue was shutting down as done, so a restart does not run it again', async () => {
    const dir = join(root, randomUUID());
    const queue = await LocalJobQueue.open({ dir });
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    // Like an upload already on the wire: it completes even though the signal aborts.
    await queue.work(
      (job) =>
        new Promise((resolve) => {
          started();
          job.signal.addEventListener('abort', () => setTimeout(() => resolve(fakeResult('delivered')), 50), { once: true });
        }),
    );
    const { id } = await queue.enqueue(jobData('ann'), { idempotencyKey: randomUUID() });
    await running;
    await queue.close();

    const reopened = await LocalJobQueue.open({ dir });
    const runs: string[] = [];
    await reopened.work((job) => {
      runs.push(job.id);
      return Promise.resolve(fakeResult('again'));
    });
    // Jobs run in order: once a job queued after it has run, the delivered one had its chance to run again.
    const later = await reopened.enqueue(jobData('bob'), { idempotencyKey: randomUUID() });
    await waitFor('the later job', async () => (await reopened.get(later.id))?.state === 'completed');
    expect(runs).toEqual([later.id]);
    expect(await reopened.get(id)).toMatchObject({ state: 'completed' });
    await reopened.close();
  });

  it('tells its subscribers of a job it gave up on because it kept killing the process', async () => {
    const dir = join(root, randomUUID());
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });
    const at = Date.now();
    // The journal a process leaves when it dies in the middle of a job.
    const records = [
      { op: 'enqueue', id: 'jdies', data: jobData('ann'), seq: 1, round: 0, at },
      { op: 'start', id: 'jdies', at },
    ];
    await writeFile(join(dir, 'journal.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const queue = await LocalJobQueue.open({ dir, maxInterruptions: 0 });
    const log = new EventLog(queue);
    await waitFor('the failed event', () => log.events.some((e) => e.type === 'failed'));
    expect(log.events).toContainEqual({ type: 'failed', jobId: 'jdies', error: expect.objectContaining({ code: 'internal' }) as unknown });
    expect(await queue.get('jdies')).toMatchObject({ state: 'failed' });
    await queue.close();
  });

  it('refuses a second open of the same journal', async () => {
    const dir = join(root, randomUUID());
    const queue = await LocalJobQueue.open({ dir });
    const second = await LocalJobQueue.open({ dir }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(ReelforgeError);
    expect(second).toMatchObject({ code: 'config' });
    await queue.close();
  });
});
