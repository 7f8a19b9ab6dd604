/** Counts what the jobs this process runs do: states, queue wait, the receipt's figures, provider errors, uploads. */
import { classifyJobEnd } from '../queue/job-end.js';
import type { JobProcessor } from '../queue/types.js';
import type { Metrics } from './metrics.js';

const PROVIDER_ERRORS = new Set(['provider_unavailable', 'provider_refused', 'content_policy']);

export function withJobMetrics(processor: JobProcessor, metrics: Metrics): JobProcessor {
  return async (job) => {
    const platform = job.data.owner.platform;
    const requested = job.data.request.tier ?? 'auto';
    // A resumed or retried run would count its wait twice.
    if (job.attempt === 1) metrics.queueWait((Date.now() - job.data.createdAt) / 1000);
    try {
      const result = await processor(job);
      const receipt = result.receipt;
      metrics.receipt(receipt);
      metrics.job('completed', { platform, tier: receipt.tier });
      if (job.data.target) metrics.upload(platform, receipt.sizeBytes);
      return result;
    } catch (thrown) {
      const { kind, error } = classifyJobEnd(job, thrown);
      if (kind !== 'interrupted') metrics.job(kind === 'retry' ? 'retried' : kind, { platform, tier: requested });
      if (kind !== 'interrupted' && PROVIDER_ERRORS.has(error.code)) metrics.providerError(error.code);
      throw thrown;
    }
  };
}
