/**
 * Wraps a job processor so every finished job is counted for /stats: once per job, in the process
 * that ran it (so several bot processes watching one Redis queue do not count a job twice).
 */
import { classifyJobEnd } from '../queue/job-end.js';
import type { Logger } from '../log.js';
import type { JobProcessor } from '../queue/types.js';
import type { SettingsStore } from './settings.js';

export function withUsageRecording(
  processor: JobProcessor,
  settings: SettingsStore,
  options: { log?: Logger } = {},
): JobProcessor {
  const save = async (record: Parameters<SettingsStore['record']>[0]): Promise<void> => {
    // Counting is bookkeeping: a store outage must not fail the job.
    await settings.record(record).catch((error: unknown) => options.log?.warn('usage record failed', { error }));
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
      const { kind, error } = classifyJobEnd(job, thrown);
      // An interrupted job resumes and a retried one runs again: neither has ended yet.
      if (kind === 'cancelled' || kind === 'failed') await save({ ...who, outcome: kind });
      throw error;
    }
  };
}
