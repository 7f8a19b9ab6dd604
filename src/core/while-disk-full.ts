/**
 * Writes that should outlast a full disk wait it out instead of failing: start-up (the journal's
 * lock, the settings file) instead of ending the process, and the store of paid provider answers
 * instead of throwing away what was paid for. A disk fills for a while (a big upload, logs) and
 * frees again.
 */
import { isDiskFull } from './errors.js';
import { sleep } from './sleep.js';

export interface WhileDiskFullOptions {
  /** What is being done, for the log line ("open the job queue"). */
  what: string;
  /** Told of each wait; none where the caller's own error says enough if the wait runs out. */
  warn?: (message: string, fields: Record<string, unknown>) => void;
  /** Give up (rethrow) after this long in all. Default 5 minutes. */
  maxWaitMs?: number;
  /** First wait, doubled each time up to 30 s. Default 1 s. */
  firstDelayMs?: number;
}

export async function whileDiskFull<T>(work: () => Promise<T>, options: WhileDiskFullOptions): Promise<T> {
  const giveUpAt = Date.now() + (options.maxWaitMs ?? 5 * 60_000);
  for (let delay = options.firstDelayMs ?? 1000; ; delay = Math.min(delay * 2, 30_000)) {
    try {
      return await work();
    } catch (error) {
      if (!isDiskFull(error) || Date.now() + delay > giveUpAt) throw error;
      options.warn?.(`the disk is full: could not ${options.what}; trying again`, { retryInMs: delay, error: String(error) });
      await sleep(delay);
    }
  }
}
