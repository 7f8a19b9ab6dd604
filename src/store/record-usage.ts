/**
 * Wraps a job processor so every finished job is counted for /stats: once per job, in the process
 * that ran it (so several bot processes watching one Redis queue do not count a job twice).
 */
import { toReelforgeError } from '../core/errors.js';
import type { JobProcessor } from '../queue/types.js';
import type { SettingsStore } from './settings.js';

export function withUsageRecording(
  processor: JobProcessor,
  settings: SettingsStore,
  options: { maxAttempts: number; log?: (line: string, fields?: Record<string, unknown>) => void },
): JobProcessor {
  const save = async (record: Parameters<SettingsStore['record']>[0]): Promise<void> => {
    // Counting is bookkeeping: a store outage must not fail the job.
    await settings.record(record).catch((error: unknown) => options.log?.('usage record failed', { error: String(error) }));
  };
  return async (job) => {
    const who = { platform: job.data.owner.platform, userId: job.data.owner.userId };
    try {
      const result = await processor(job);
      const r = result.receipt;
      await save({
        ...who,
        outcome: 'completed',
        tokens: r.llm.totalTokens,
        costUsd: r.costUsd,
        images: r.images.generated + r.images.reused,
        videoSec: r.durationSec,
      });
      return result;
    } catch (thrown) {
      const error = toReelforgeError(thrown);
      if (error.code === 'cancelled') {
        // A shutdown interrupts with a retryable cancel: the job resumes later, nothing ended.
        if (!error.retryable) await save({ ...who, outcome: 'cancelled' });
      } else if (!error.retryable || job.attempt >= options.maxAttempts) {
        await save({ ...who, outcome: 'failed' });
      }
      throw error;
    }
  };
}
