/**
 * Relays the queue events that no running job reports to the chats they concern, on any platform:
 * a waiting job's new place in line, a job cancelled before it started (from any chat or an admin
 * command), and a job the queue failed for good. Each bot subscribes with its own notifier.
 */
import { ReelforgeError } from '../core/errors.js';
import { applyProgress, emptySnapshot } from '../core/progress.js';
import type { JobQueue, QueueEvent } from '../queue/types.js';
import type { NotifierRegistry } from './video-job.js';

/** Subscribes to the queue; returns the unsubscribe function. */
export function relayQueueEvents(
  queue: JobQueue,
  notifiers: NotifierRegistry,
  log: (line: string, fields?: Record<string, unknown>) => void = () => undefined,
): () => void {
  const relay = async (event: QueueEvent): Promise<void> => {
    const isPlace = event.type === 'progress' && event.event.type === 'queued';
    if (!isPlace && event.type !== 'cancelled' && event.type !== 'failed') return;
    const info = await queue.get(event.jobId);
    const target = info?.data.target;
    const notifier = target ? notifiers.get(target.platform) : undefined;
    if (!target || !notifier || target.progressMessageId === undefined) return;
    if (event.type === 'progress' && event.event.type === 'queued') {
      // A late place-in-line update must not overwrite a running job's progress.
      if (info?.state === 'waiting') await notifier.progress(target, applyProgress(emptySnapshot(), event.event), event.jobId);
    } else if (event.type === 'cancelled') {
      await notifier.fail(target, new ReelforgeError('cancelled', 'The job was cancelled.'));
    } else if (event.type === 'failed') {
      // Usually the job already said so itself (a second identical notice changes nothing); this
      // covers jobs the queue gave up on without running them, e.g. after repeated crashes.
      const { code, message, retryable, params } = event.error;
      await notifier.fail(target, new ReelforgeError(code, message, { retryable, params }));
    }
  };
  return queue.subscribe((event) => {
    // Listeners are called synchronously by the queue; the chat update happens on its own time.
    void relay(event).catch((error: unknown) => log('queue relay failed', { jobId: event.jobId, error: String(error) }));
  });
}
