import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DiscordTarget } from '../../src/core/chat-target.js';
import type { ReelforgeError } from '../../src/core/errors.js';
import type { ProgressSnapshot } from '../../src/core/progress.js';
import type { Notifier } from '../../src/jobs/notifier.js';
import { relayQueueEvents } from '../../src/jobs/queue-relay.js';
import { notifierRegistry } from '../../src/jobs/video-job.js';
import { LocalJobQueue } from '../../src/queue/local-queue.js';
import { fakeResult, jobData } from '../queue/contract.js';
import { waitFor } from '../helpers/wait-for.js';

const discordTarget: DiscordTarget = {
  platform: 'discord',
  applicationId: '1',
  interactionToken: 'tok',
  interactionCreatedAt: Date.now(),
  channelId: '2',
  progressMessageId: '3',
  locale: 'en-US',
};

class Recorder implements Notifier<DiscordTarget> {
  readonly platform = 'discord' as const;
  readonly shown: ProgressSnapshot[] = [];
  readonly shownFor: string[] = [];
  readonly failures: ReelforgeError[] = [];
  uploadLimitBytes(): number {
    return 10 << 20;
  }
  progress(_t: DiscordTarget, snapshot: ProgressSnapshot, jobId: string): Promise<void> {
    this.shown.push(snapshot);
    this.shownFor.push(jobId);
    return Promise.resolve();
  }
  deliver(): Promise<void> {
    return Promise.resolve();
  }
  fail(_t: DiscordTarget, error: ReelforgeError): Promise<void> {
    this.failures.push(error);
    return Promise.resolve();
  }
}

let dir: string;
let queue: LocalJobQueue;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reelforge-relay-'));
  queue = await LocalJobQueue.open({ dir, concurrency: 1 });
});
afterEach(async () => {
  await queue.close();
  await rm(dir, { recursive: true, force: true });
});

describe('relayQueueEvents', () => {
  it('tells a waiting Discord job of its cancel, whoever cancelled it', async () => {
    const recorder = new Recorder();
    const unsubscribe = relayQueueEvents(queue, notifierRegistry([recorder]));
    let release!: () => void;
    await queue.work(() => new Promise((resolve) => (release = () => resolve(fakeResult('first')))));
    await queue.enqueue(jobData('telegram-user'), { idempotencyKey: 'a' });
    const waiting = await queue.enqueue({ ...jobData('discord-user'), owner: { platform: 'discord', userId: '9' }, target: discordTarget }, { idempotencyKey: 'b' });
    expect(waiting.position).toBe(1);

    await queue.cancel(waiting.id);
    await waitFor('the relay', () => recorder.failures.length > 0, 2000);
    expect(recorder.failures.map((e) => e.code)).toEqual(['cancelled']);
    release();
    unsubscribe();
  });

  it('leaves jobs of other platforms and jobs without a progress message alone', async () => {
    const recorder = new Recorder();
    relayQueueEvents(queue, notifierRegistry([recorder]));
    let release!: () => void;
    await queue.work(() => new Promise((resolve) => (release = () => resolve(fakeResult('x')))));
    await queue.enqueue(jobData('first'), { idempotencyKey: 'c' });
    const telegram = await queue.enqueue(
      { ...jobData('t'), target: { platform: 'telegram', chatId: 1, progressMessageId: 2, locale: 'en' } },
      { idempotencyKey: 'd' },
    );
    const noMessage = await queue.enqueue({ ...jobData('u'), owner: { platform: 'discord', userId: '8' }, target: { ...discordTarget, progressMessageId: undefined } }, { idempotencyKey: 'e' });
    await queue.cancel(telegram.id);
    await queue.cancel(noMessage.id);
    await new Promise((r) => setTimeout(r, 100));
    expect(recorder.failures).toEqual([]);
    release();
  });

  it('leaves the end of a running job to its processor, and tells a waiting one its place once', async () => {
    const recorder = new Recorder();
    const unsubscribe = relayQueueEvents(queue, notifierRegistry([recorder]));
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    await queue.work(
      (job) =>
        new Promise((_resolve, reject) => {
          job.progress({ type: 'started', offline: true, tier: 'ultra_fast' });
          started();
          job.signal.addEventListener('abort', () => reject(job.signal.reason as Error));
        }),
    );
    const discordJob = (key: string, userId: string) =>
      queue.enqueue({ ...jobData(key), owner: { platform: 'discord', userId }, target: discordTarget }, { idempotencyKey: key });
    const first = await discordJob('run', '1');
    await running;
    const second = await discordJob('wait', '2');
    await waitFor('the relay', () => recorder.shownFor.includes(second.id), 2000);

    await queue.cancel(first.id); // running: its processor says so, not the relay
    await queue.cancel(second.id); // waiting: only the relay can say so
    await waitFor('the relay', () => recorder.failures.length > 0, 2000);
    expect(recorder.failures.map((e) => e.code)).toEqual(['cancelled']);
    expect(recorder.shownFor.filter((id) => id === second.id)).toHaveLength(1);
    unsubscribe();
  });
});
