/**
 * The admission check at enqueue: allow-lists, daily limits and the reservation of a job's estimated
 * cost, over real queues (the local durable queue with the file store; BullMQ with the Redis store).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withAdmission, type AccessPolicy } from '../../src/access/admission.js';
import type { JobOwner } from '../../src/core/chat-target.js';
import { ReelforgeError, paramsOf } from '../../src/core/errors.js';
import type { Receipt } from '../../src/core/receipt.js';
import { BullMqJobQueue } from '../../src/queue/bullmq-queue.js';
import { LocalJobQueue } from '../../src/queue/local-queue.js';
import type { JobQueue, VideoJobData } from '../../src/queue/types.js';
import { RedisSettingsStore } from '../../src/redis/settings-store.js';
import { FileSettingsStore } from '../../src/store/file-settings-store.js';
import type { SettingsStore } from '../../src/store/settings.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const NOW = new Date('2026-03-01T21:30:00Z');
const TODAY = '2026-03-01';
const dirs: string[] = [];
let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'reelforge-admission-'));
  dirs.push(dir);
  return dir;
}

function policy(overrides: Partial<AccessPolicy> = {}): AccessPolicy {
  return { adminIds: new Set(['telegram:1']), allowedUsers: null, allowedChats: null, limits: {}, ...overrides };
}

function job(owner: Partial<JobOwner> & { userId: string }, durationSec = 30): VideoJobData {
  return { request: { topic: 'Tea', durationSec, lang: 'en', aspect: '9:16' }, owner: { platform: 'telegram', ...owner }, target: null, createdAt: Date.now() };
}

function receipt(costUsd: number): Receipt {
  return {
    output: '/out/v.mp4', title: 'Tea', durationSec: 30, width: 1080, height: 1920, sizeBytes: 1000, tier: 'ultra_fast', segments: 6, offline: false, lang: 'en',
    llm: { calls: 1, promptTokens: 100, completionTokens: 50, totalTokens: 150 }, images: { generated: 6, reused: 0 }, ttsCharacters: 400, costUsd, timingsMs: { total: 1000 },
  };
}

async function refusal(promise: Promise<unknown>): Promise<ReelforgeError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ReelforgeError);
  return error as ReelforgeError;
}

async function localSetup(p: AccessPolicy, estimate = 0.1): Promise<{ queue: JobQueue; inner: LocalJobQueue; settings: SettingsStore; close: () => Promise<void> }> {
  const dir = await tempDir();
  const inner = await LocalJobQueue.open({ dir: join(dir, 'queue'), userWaiting: 10, userActive: 10 });
  const settings = await FileSettingsStore.open(dir);
  const queue = withAdmission(inner, { settings, policy: p, estimateUsd: () => estimate, now: () => NOW });
  return { queue, inner, settings, close: async () => (await queue.close(), await settings.close()) };
}

describe('allow-lists', () => {
  it('refuses everyone not listed once a list is set, and lets listed users, listed chats and admins in', async () => {
    const { queue, settings, close } = await localSetup(policy({ allowedUsers: new Set(['telegram:5', 'discord:5']), allowedChats: new Set(['telegram:-100']) }));
    try {
      const refused = await refusal(queue.enqueue(job({ userId: '6', chatId: '6' }), { idempotencyKey: 'a' }));
      expect(refused.code).toBe('not_allowed');
      // The same id on another platform is another person.
      expect((await refusal(queue.enqueue(job({ userId: '7', platform: 'discord', chatId: '-100' }), { idempotencyKey: 'b' }))).code).toBe('not_allowed');
      await queue.enqueue(job({ userId: '5', chatId: '5' }), { idempotencyKey: 'c' });
      await queue.enqueue(job({ userId: '8', chatId: '-100' }), { idempotencyKey: 'd' });
      await queue.enqueue(job({ userId: '1', chatId: '1' }), { idempotencyKey: 'e' });
      // A refused request booked nothing; the three that passed did.
      expect((await settings.spend(TODAY)).videos).toBe(3);
      expect((await queue.stats()).waiting).toBe(3);
    } finally {
      await close();
    }
  });

  it('lets everyone in when neither list is set', async () => {
    const { queue, close } = await localSetup(policy());
    try {
      await expect(queue.enqueue(job({ userId: '99' }), { idempotencyKey: 'x' })).resolves.toMatchObject({ duplicate: false });
    } finally {
      await close();
    }
  });
});

describe('daily limits', () => {
  it('names the limit and when it resets (the next UTC midnight); admins are exempt', async () => {
    const { queue, close } = await localSetup(policy({ limits: { userVideos: 1 } }));
    try {
      await queue.enqueue(job({ userId: '5' }), { idempotencyKey: 'a' });
      // The same request again (a retried update) is the same job, not a second video.
      await expect(queue.enqueue(job({ userId: '5' }), { idempotencyKey: 'a' })).resolves.toMatchObject({ duplicate: true });
      const refused = await refusal(queue.enqueue(job({ userId: '5' }), { idempotencyKey: 'b' }));
      expect(refused.code).toBe('daily_limit');
      expect(refused.params).toMatchObject({ limit: 'user_videos', max: 1, resetsAt: '2026-03-02T00:00:00.000Z', resetsInMin: 150 });
      await queue.enqueue(job({ userId: '1' }), { idempotencyKey: 'c' });
      await queue.enqueue(job({ userId: '1' }), { idempotencyKey: 'd' });
    } finally {
      await close();
    }
  });

  it('gives the reservation back when the job is cancelled, and settles it with the receipt when it completes', async () => {
    const { queue, inner, settings, close } = await localSetup(policy({ limits: { userVideos: 1, userUsd: 0.5 } }), 0.4);
    try {
      const first = await queue.enqueue(job({ userId: '5' }), { idempotencyKey: 'a' });
      expect(paramsOf(await refusal(queue.enqueue(job({ userId: '5' }), { idempotencyKey: 'b' })), 'daily_limit').limit).toBe('user_videos');
      expect(await queue.cancel(first.id)).toBe(true);
      await expect.poll(async () => (await settings.spend(TODAY)).videos).toBe(0);

      const second = await queue.enqueue(job({ userId: '5' }), { idempotencyKey: 'c' });
      const ended = new Promise<void>((resolve) => inner.subscribe((e) => e.type === 'completed' && e.jobId === second.id && resolve()));
      await queue.work(() => Promise.resolve({ receipt: receipt(0.25) }));
      await ended;
      await expect.poll(async () => (await settings.spend(TODAY)).usd).toBeCloseTo(0.25, 9);
      expect((await queue.stats()).spend).toMatchObject({ day: TODAY, videos: 1, limits: { userVideos: 1, userUsd: 0.5 } });
    } finally {
      await close();
    }
  });
});

describe('two requests at the same moment against a budget that fits one', () => {
  it('file store: exactly one is queued', async () => {
    const { queue, settings, close } = await localSetup(policy({ limits: { budgetUsd: 0.5 } }), 0.4);
    try {
      const outcomes = await Promise.allSettled([
        queue.enqueue(job({ userId: '5' }), { idempotencyKey: 'a' }),
        queue.enqueue(job({ userId: '6' }), { idempotencyKey: 'b' }),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const rejected = outcomes.find((o) => o.status === 'rejected');
      expect((rejected?.reason as ReelforgeError).params).toMatchObject({ limit: 'daily_budget', max: 0.5 });
      expect(await settings.spend(TODAY)).toMatchObject({ videos: 1 });
      expect((await queue.stats()).waiting).toBe(1);
    } finally {
      await close();
    }
  });

  it('Redis: exactly one is queued, across two processes (two queues and stores on one Redis)', async () => {
    const name = `test-${randomUUID()}`;
    const prefix = `${name}:settings:`;
    const open = async (): Promise<{ queue: JobQueue; settings: SettingsStore }> => {
      const inner = await BullMqJobQueue.open({ url: redis.url, name, log: () => undefined, userWaiting: 10 });
      const settings = new RedisSettingsStore({ redis: redis.url, prefix });
      return { queue: withAdmission(inner, { settings, policy: policy({ limits: { budgetUsd: 0.5 } }), estimateUsd: () => 0.4, now: () => NOW }), settings };
    };
    const [a, b] = await Promise.all([open(), open()]);
    try {
      const outcomes = await Promise.allSettled([
        a.queue.enqueue(job({ userId: '5' }), { idempotencyKey: 'a' }),
        b.queue.enqueue(job({ userId: '6' }), { idempotencyKey: 'b' }),
        a.queue.enqueue(job({ userId: '7' }), { idempotencyKey: 'c' }),
        b.queue.enqueue(job({ userId: '8' }), { idempotencyKey: 'd' }),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      expect(outcomes.filter((o) => o.status === 'rejected').every((o) => (o.reason as ReelforgeError).code === 'daily_limit')).toBe(true);
      expect(await a.settings.spend(TODAY)).toMatchObject({ videos: 1 });
      expect((await b.queue.stats()).waiting).toBe(1);
    } finally {
      for (const side of [a, b]) {
        await side.queue.close();
        await side.settings.close();
      }
    }
  });
});
