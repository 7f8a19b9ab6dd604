/**
 * How a job's run ended when its processor threw, decided in one place for everyone who reacts to
 * it (the chat notice, the /stats bookkeeping): interrupted by a shutdown (it will resume),
 * cancelled by a person, failed for good, or failed with a retry to come.
 */
import { isReelforgeError, toReelforgeError, type ReelforgeError } from '../core/errors.js';
import type { JobContext } from './types.js';

export type JobEndKind = 'interrupted' | 'cancelled' | 'retry' | 'failed';

export interface JobEnd {
  kind: JobEndKind;
  error: ReelforgeError;
}

export function classifyJobEnd(job: Pick<JobContext, 'signal' | 'lastAttempt'>, thrown: unknown): JobEnd {
  // Once the signal is aborted its reason says why (a shutdown's retryable cancel, or a person's
  // cancel), whatever error a provider happened to surface while stopping.
  const reason: unknown = job.signal.aborted ? job.signal.reason : undefined;
  const error = isReelforgeError(reason) ? reason : toReelforgeError(thrown);
  if (error.code === 'cancelled') return { kind: error.retryable ? 'interrupted' : 'cancelled', error };
  if (error.retryable && !job.lastAttempt) return { kind: 'retry', error };
  return { kind: 'failed', error };
}
