/**
 * Start-up work that writes to DATA_DIR (the journal's lock, the settings file) waits out a full
 * disk instead of ending the process: a disk fills for a while (a big upload, logs) and frees again.
 */
import { isDiskFull } from './errors.js';
import { sleep } from './sleep.js';

export interface WhileDiskFullOptions {
  /** What is being done, for the log line ("open the job queue"). */
  what: string;
  warn: (message: string, fields: Record<string, unknown>) => void;
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
      options.warn(`the disk is full: could not ${options.what}; trying again`, { retryInMs: delay, error: String(error) });
      await sleep(delay);
    }
  }
}
