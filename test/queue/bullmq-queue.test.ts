import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullMqJobQueue } from '../../src/queue/bullmq-queue.js';
import { ReelforgeError } from '../../src/core/errors.js';
import { redactRedisUrl, redactSecrets } from '../../src/redis/connection.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { queueContract } from './contract.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis.stop();
});

queueContract('BullMQ on redis-server', (store, options) =>
  BullMqJobQueue.open({ url: redis.url, name: `test-${store}`, log: () => undefined, ...options }),
);

describe('BullMqJobQueue connection', () => {
  it('fails with a clear config error, and no password, when Redis cannot be reached', async () => {
    const url = 'redis://worker:hunter2@127.0.0.1:1/0';
    const error = await BullMqJobQueue.open({ url, name: 'unreachable', connectTimeoutMs: 1500, log: () => undefined }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReelforgeError);
    expect(error).toMatchObject({ code: 'config' });
    expect((error as Error).message).toContain('redis://worker:***@127.0.0.1:1/0');
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('redacts the password in any REDIS_URL it prints', () => {
    expect(redactRedisUrl('rediss://:s3cret@redis.example:6380')).toBe('rediss://:***@redis.example:6380');
    expect(redactRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactRedisUrl('not a url with secret')).not.toContain('secret');
  });

  it('removes the password from error text before it is logged', () => {
    const url = 'redis://default:p%40ss@10.0.0.5:6379';
    expect(redactSecrets('connect ECONNREFUSED redis://default:p%40ss@10.0.0.5:6379 (p@ss)', url)).toBe(
      'connect ECONNREFUSED redis://default:***@10.0.0.5:6379 (***)',
    );
  });
});
