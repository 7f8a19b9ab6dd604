/**
 * Relays to the chats the queue events that no running job reports: a waiting job's place in line,
 * and the end of a job outside a processor (cancelled while waiting, from any chat or an admin
 * command; failed for good by the queue without running, e.g. after repeated crashes).
 *
 * One owner per message: the processor announces the end of a job it runs (video-job.ts), this relay
 * announces every other end, and the bots announce no end at all; the place in line is sent only
 * from here (the queue announces every waiting job, the one just enqueued included). Each bot
 * subscribes with its own notifier.
 */
import { cancelled, ReelforgeError } from '../core/errors.js';
import { applyProgress, emptySnapshot } from '../core/progress.js';
import type { JobQueue, QueueEvent } from '../queue/types.js';
import { silentLogger, type Logger } from '../log.js';
import type { NotifierRegistry } from './video-job.js';

/** Jobs seen running are forgotten when they end; this bounds the memory of ones whose end was missed. */
const MAX_TRACKED = 10_000;

/** Subscribes to the queue; returns the unsubscribe function. */
export function relayQueueEvents(
  queue: JobQueue,
  notifiers: NotifierRegistry,
  log: Logger = silentLogger(),
): () => void {
  // Jobs whose progress showed them inside a processor: that processor announces their end.
  const running = new Set<string>();

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
      await notifier.fail(target, cancelled());
    } else if (event.type === 'failed') {
      await notifier.fail(target, ReelforgeError.fromJSON(event.error));
    }
  };

  return queue.subscribe((event) => {
    // Listeners are called synchronously by the queue, in event order: the bookkeeping happens here.
    if (event.type === 'progress') {
      if (event.event.type === 'queued') running.delete(event.jobId); // back in line (after a restart)
      else {
        if (running.size >= MAX_TRACKED) running.delete(running.values().next().value ?? '');
        running.add(event.jobId);
      }
    }
    if (event.type === 'completed' || event.type === 'failed' || event.type === 'cancelled') {
      const inProcessor = running.delete(event.jobId);
      if (inProcessor || event.type === 'completed') return;
    }
    // The chat update happens on its own time; a failure is logged, never thrown into the queue.
    void relay(event).catch((error: unknown) => log.warn('queue relay failed', { jobId: event.jobId, error: String(error) }));
  });
}
