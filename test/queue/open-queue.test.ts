import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullMqJobQueue } from '../../src/queue/bullmq-queue.js';
import { LocalJobQueue } from '../../src/queue/local-queue.js';
import { openJobQueue } from '../../src/queue/open-queue.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

let redis: RedisServer;
let dataDir = '';
beforeAll(async () => {
  redis = await startRedisServer();
  dataDir = await mkdtemp(join(tmpdir(), 'reelforge-open-queue-'));
});
afterAll(async () => {
  await redis.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const limits = { maxWaiting: 50, userActive: 1, userWaiting: 2 };

describe('openJobQueue', () => {
  it('uses the local journal under DATA_DIR/queue without REDIS_URL', async () => {
    const queue = await openJobQueue({ redisUrl: undefined, dataDir, limits, concurrency: 2 });
    try {
      expect(queue).toBeInstanceOf(LocalJobQueue);
      expect((await stat(join(dataDir, 'queue', 'journal.jsonl'))).isFile()).toBe(true);
    } finally {
      await queue.close();
    }
  });

  it('uses BullMQ when REDIS_URL is set', async () => {
    const queue = await openJobQueue({ redisUrl: redis.url, dataDir, limits, concurrency: 2, name: 'open-test', log: () => undefined });
    try {
      expect(queue).toBeInstanceOf(BullMqJobQueue);
      expect(await queue.stats()).toEqual({ waiting: 0, active: 0, completed: 0, failed: 0, cancelled: 0 });
    } finally {
      await queue.close();
    }
  });
});
