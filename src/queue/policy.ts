/**
 * The queue policy both queues apply, written once: option defaults, admission (per-owner limits,
 * the global cap, the new job's fairness round), which places to announce, and the listeners.
 * The local queue applies it to its in-memory state; the BullMQ queue applies the same admission
 * inside one Redis script (`bullmq-admission.ts`), so it holds across processes.
 */
import { DEFAULT_LIMITS, checkUserLimit, queueFullError, type QueueLimits } from './limits.js';
import type { QueueEvent } from './types.js';

export interface QueuePolicyOptions extends Partial<QueueLimits> {
  /** Jobs run at once in this process. Default 1. */
  concurrency?: number;
  /** Tries per job for retryable errors. Default 3. */
  attempts?: number;
  /** First retry delay; doubles each time. Default 2000 ms. */
  backoffMs?: number;
  /** Assumed job duration before any job has finished. Default 60 s. */
  defaultJobSec?: number;
  /** Where the queue's own warnings go (a broken listener, a journal that cannot be written). */
  log?: (line: string) => void;
}

export interface QueueSettings {
  limits: QueueLimits;
  concurrency: number;
  attempts: number;
  backoffMs: number;
  defaultJobMs: number;
  log: (line: string) => void;
}

export function queueSettings(options: QueuePolicyOptions): QueueSettings {
  return {
    limits: {
      maxWaiting: options.maxWaiting ?? DEFAULT_LIMITS.maxWaiting,
      userActive: options.userActive ?? DEFAULT_LIMITS.userActive,
      userWaiting: options.userWaiting ?? DEFAULT_LIMITS.userWaiting,
    },
    concurrency: Math.max(1, options.concurrency ?? 1),
    attempts: Math.max(1, options.attempts ?? 3),
    backoffMs: options.backoffMs ?? 2000,
    defaultJobMs: (options.defaultJobSec ?? 60) * 1000,
    // Without a logger the warnings are dropped rather than printed past the masking logger.
    log: options.log ?? (() => undefined),
  };
}

/** What admission looks at: the owner's unfinished jobs and everyone's waiting ones. */
export interface LineCounts {
  ownerActive: number;
  ownerWaiting: number;
  waitingAll: number;
}

/**
 * Whether a new job may join the line; throws `user_limit` or `queue_full`. Returns the job's
 * fairness round: how many unfinished jobs its owner already has (see fairness.ts).
 */
export function admit(limits: QueueLimits, counts: LineCounts): { round: number } {
  checkUserLimit(limits, counts.ownerActive, counts.ownerWaiting);
  if (counts.waitingAll >= limits.maxWaiting) throw queueFullError(limits.maxWaiting);
  return { round: counts.ownerActive + counts.ownerWaiting };
}

/**
 * Places to announce: given the waiting jobs in line order and the place each was last told
 * (undefined when never), the ones whose place changed, with their new 1-based place.
 */
export function placesToAnnounce(
  orderIds: readonly string[],
  lastTold: (id: string) => number | undefined,
): Array<{ id: string; position: number; index: number }> {
  const changes: Array<{ id: string; position: number; index: number }> = [];
  orderIds.forEach((id, index) => {
    const position = index + 1;
    if (lastTold(id) !== position) changes.push({ id, position, index });
  });
  return changes;
}

/** Subscribers of a queue: one broken listener (a chat that cannot be edited) never stops the others. */
export class QueueListeners {
  private readonly listeners = new Set<(event: QueueEvent) => void>();

  constructor(private readonly log: (line: string) => void) {}

  add(listener: (event: QueueEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  has(listener: (event: QueueEvent) => void): boolean {
    return this.listeners.has(listener);
  }

  emit(event: QueueEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.log(`queue listener failed on ${event.type} of ${event.jobId}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
