import { createHash } from 'node:crypto';

/**
 * A job's id is derived from its idempotency key, so both queues detect a duplicate by id alone
 * (BullMQ ignores an add whose jobId exists). Short enough for `/cancel j3f9a...`; 48 bits make a
 * collision between live jobs practically impossible. Starts with a letter: BullMQ refuses numeric ids.
 */
export function jobIdFor(idempotencyKey: string): string {
  return `j${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 12)}`;
}
