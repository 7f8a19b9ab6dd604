/** The refusals both queues give, worded once. */
import { ReelforgeError } from '../core/errors.js';

export interface QueueLimits {
  /** Jobs waiting overall before new ones are refused. */
  maxWaiting: number;
  /** Jobs one owner may have running at once. */
  userActive: number;
  /** Jobs one owner may have waiting beyond those running. */
  userWaiting: number;
}

export const DEFAULT_LIMITS: QueueLimits = { maxWaiting: 50, userActive: 1, userWaiting: 2 };

export function queueFullError(maxWaiting: number): ReelforgeError {
  return new ReelforgeError('queue_full', 'The queue is full, try again in a few minutes.', {
    retryable: true,
    params: { maxWaiting },
  });
}

/** An owner may hold `userActive + userWaiting` unfinished jobs: "1 running and 2 waiting" by default. */
export function checkUserLimit(limits: QueueLimits, active: number, waiting: number): void {
  const limit = limits.userActive + limits.userWaiting;
  if (active + waiting >= limit) {
    throw new ReelforgeError(
      'user_limit',
      `You already have ${active + waiting} videos in progress or waiting (at most ${limit}); try again when one is done.`,
      { params: { limit, active, waiting } },
    );
  }
}
