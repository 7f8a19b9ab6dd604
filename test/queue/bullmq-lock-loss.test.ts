/**
 * A BullMQ worker that loses its job's lock (Redis down longer than the lock lasts) while it runs
 * it: the stalled-job check gives the job to another worker, and the first run must stop (silently)
 * instead of carrying on and delivering a second video. A real redis-server (persistent, crashed
 * with SIGKILL and restarted on the same port), two workers, the real video job and
 * TelegramNotifier against the fake Bot API.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelled } from '../../src/core/errors.js';
import { TelegramNotifier } from '../../src/bots/telegram/notifier.js';
import { createVideoJobProcessor, notifierRegistry, type RenderVideo } from '../../src/jobs/video-job.js';
import { BullMqJobQueue } from '../../src/queue/bullmq-queue.js';
import type { JobProcessor } from '../../src/queue/types.js';
import { FakeTelegramServer, type FakeUser } from '../fakes/telegram-server.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { createFakeRender } from '../bots/telegram/fake-render.js';

let fake: FakeTelegramServer;
let redis: RedisServer;
let redisDir: string;
let work: string;
const queues: BullMqJobQueue[] = [];

beforeAll(async () => {
  fake = await FakeTelegramServer.start();
  redisDir = await mkdtemp(join(tmpdir(), 'reelforge-lock-redis-'));
  work = await mkdtemp(join(tmpdir(), 'reelforge-lock-'));
  redis = await startRedisServer({ dir: redisDir, persist: true });
});
afterAll(async () => {
  for (const queue of queues) await queue.close().catch(() => undefined);
  await redis?.stop();
  await fake?.close();
  await rm(redisDir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

describe('BullMQ: a run that lost its lock', () => {
  it('stops without delivering; the run that took the job over delivers the only video', async () => {
    const name = `lock-${randomUUID()}`;
    const logs: string[] = [];
    const open = async (): Promise<BullMqJobQueue> => {
      const queue = await BullMqJobQueue.open({ url: redis.url, name, log: (line) => logs.push(line), lockDurationMs: 2000, stalledIntervalMs: 1000 });
      queues.push(queue);
      return queue;
    };
    const notifier = new TelegramNotifier({ token: fake.token, apiRoot: fake.apiRoot, minIntervalMs: { private: 0, group: 0 } });
    const fakeRender = createFakeRender(work, { stepMs: 20, segments: 1 });

    // The first run holds (until released) once it has begun; later runs go straight through.
    let firstEntered!: () => void;
    const entered = new Promise<void>((resolve) => (firstEntered = resolve));
    let releaseFirst!: () => void;
    const released = new Promise<void>((resolve) => (releaseFirst = resolve));
    let renders = 0;
    const render: RenderVideo = async (data, options) => {
      renders++;
      if (renders === 1) {
        firstEntered();
        await new Promise<void>((resolve, reject) => {
          options.signal.addEventListener('abort', () => reject(cancelled()), { once: true });
          void released.then(resolve);
        });
      }
      return fakeRender.render(data, options);
    };
    const processor = createVideoJobProcessor({ render, notifiers: notifierRegistry([notifier]) });
    const runs: Promise<unknown>[] = [];
    const tracked: JobProcessor = (job) => {
      const run = processor(job);
      runs.push(run.catch(() => undefined));
      return run;
    };

    const first = await open();
    const second = await open();
    await first.work(tracked);

    const user: FakeUser = { id: 4242, first_name: 'Lena', language_code: 'en' };
    const chat = fake.privateChat(user);
    const request = fake.sendUserMessage(chat, user, '/video 10 Lighthouses');
    await first.enqueue(
      {
        request: { topic: 'Lighthouses', durationSec: 10, lang: 'en', aspect: '9:16' },
        owner: { platform: 'telegram', userId: String(user.id), chatId: String(chat.id) },
        target: { platform: 'telegram', chatId: chat.id, replyToMessageId: request.messageId, locale: 'en' },
        createdAt: Date.now(),
      },
      { idempotencyKey: `telegram:${chat.id}:${request.messageId}` },
    );
    await entered;
    // The second worker starts now, so only the first can have taken the job.
    await second.work(tracked);

    // Redis dies for longer than the lock lasts; it comes back with the data but the lock expired.
    await redis.crash();
    await new Promise((resolve) => setTimeout(resolve, 3500));
    redis = await startRedisServer({ port: redis.port, dir: redisDir, persist: true });

    const videos = (): number => fake.botMessages(chat.id).filter((m) => m.upload?.method === 'sendVideo').length;
    await fake.waitFor(() => (renders >= 2 ? true : undefined), 60_000, 'the job to run again on the other worker');
    await fake.waitFor(() => (videos() >= 1 ? true : undefined), 60_000, 'the video from the run that took over');
    // The first run is let go only now: it must not deliver as well.
    releaseFirst();
    await Promise.all(runs);
    await notifier.idle();
    expect(videos()).toBe(1);
    // It stopped silently: no failure message in the chat.
    expect(fake.botMessages(chat.id).some((m) => m.versions.some((v) => /went wrong|failed/i.test(v.text ?? '')))).toBe(false);
    expect(logs.some((line) => /lost the lock of job/.test(line))).toBe(true);
  }, 120_000);
});
