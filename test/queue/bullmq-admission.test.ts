/**
 * BullMQ admission against a real redis-server: limits hold when many enqueues race, each from its
 * own connection (as separate bot processes would), and the queue's errors reach its logger only.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ReelforgeError } from '../../src/core/errors.js';
import { BullMqJobQueue } from '../../src/queue/bullmq-queue.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { jobData } from './contract.js';

let redis: RedisServer;
const opened: BullMqJobQueue[] = [];
beforeAll(async () => {
  redis = await startRedisServer();
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((q) => q.close()));
  vi.restoreAllMocks();
});
afterAll(async () => {
  await redis.stop();
});

/** `count` queues on one Redis queue, each with its own connections. */
async function processes(count: number, options: { maxWaiting?: number; userActive?: number; userWaiting?: number }): Promise<BullMqJobQueue[]> {
  const name = `admission-${randomUUID()}`;
  const queues = await Promise.all(Array.from({ length: count }, () => BullMqJobQueue.open({ url: redis.url, name, log: () => undefined, ...options })));
  opened.push(...queues);
  return queues;
}

function codes(results: PromiseSettledResult<unknown>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) {
    const code = r.status === 'fulfilled' ? 'accepted' : r.reason instanceof ReelforgeError ? r.reason.code : String(r.reason);
    out[code] = (out[code] ?? 0) + 1;
  }
  return out;
}

describe('BullMQ admission is atomic across processes', () => {
  it('ten concurrent enqueues from one user with a limit of 3: three accepted, seven refused', async () => {
    const queues = await processes(10, { userActive: 1, userWaiting: 2 });
    const results = await Promise.allSettled(queues.map((q) => q.enqueue(jobData('ann'), { idempotencyKey: randomUUID() })));
    expect(codes(results)).toEqual({ accepted: 3, user_limit: 7 });
    expect((await queues[0]!.stats()).waiting).toBe(3);
  });

  it('ten concurrent enqueues from ten users against a global cap of 5: five wait, five are refused', async () => {
    const queues = await processes(10, { maxWaiting: 5 });
    const results = await Promise.allSettled(queues.map((q, i) => q.enqueue(jobData(`user${i}`), { idempotencyKey: randomUUID() })));
    expect(codes(results)).toEqual({ accepted: 5, queue_full: 5 });
    expect((await queues[0]!.stats()).waiting).toBe(5);
  });
});

describe('BullMQ queue errors', () => {
  it('go to the queue logger, not the console, when Redis goes away', async () => {
    const server = await startRedisServer();
    const logged: string[] = [];
    const queue = await BullMqJobQueue.open({ url: server.url, name: `errors-${randomUUID()}`, log: (line) => logged.push(line) });
    const printed: unknown[] = [];
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void printed.push(args));
    vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void printed.push(args));
    try {
      await server.stop();
      const deadline = Date.now() + 20_000;
      while (!logged.some((line) => line.startsWith('queue:')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(logged.some((line) => line.startsWith('queue:'))).toBe(true);
      expect(printed).toEqual([]);
    } finally {
      // Back up, so the queue closes at once instead of waiting on a dead server.
      const again = await startRedisServer({ port: server.port });
      await queue.close();
      await again.stop();
    }
  });
});
