/**
 * Picks the queue for this deployment: BullMQ when REDIS_URL is set, otherwise the local durable
 * queue under DATA_DIR. Takes a slice of `Config`, so `openJobQueue({ ...config, concurrency })` works.
 */
import { join } from 'node:path';
import { BullMqJobQueue } from './bullmq-queue.js';
import type { QueueLimits } from './limits.js';
import { LocalJobQueue } from './local-queue.js';
import type { JobQueue } from './types.js';

export interface OpenQueueOptions {
  redisUrl: string | undefined;
  dataDir: string;
  limits: QueueLimits;
  /** Jobs this process runs at once when it calls `work()`. */
  concurrency: number;
  /** BullMQ queue name (default `videos`); the local journal lives in `${dataDir}/queue`. */
  name?: string;
  attempts?: number;
  /** Where the queue's warnings go (the masking logger); lines never carry a Redis password. */
  log?: (line: string) => void;
}

export async function openJobQueue(options: OpenQueueOptions): Promise<JobQueue> {
  const common = {
    ...options.limits,
    concurrency: options.concurrency,
    ...(options.attempts ? { attempts: options.attempts } : {}),
    ...(options.log ? { log: options.log } : {}),
  };
  if (options.redisUrl) {
    return BullMqJobQueue.open({ url: options.redisUrl, ...(options.name ? { name: options.name } : {}), ...common });
  }
  return LocalJobQueue.open({ dir: join(options.dataDir, 'queue'), ...(options.log ? { log: options.log } : {}), ...common });
}
