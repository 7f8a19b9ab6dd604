/**
 * Relays queue events that no processor sees to Telegram chats: a waiting job's new place in line,
 * and a job cancelled before it started (from any chat or an admin command).
 */
import { ReelforgeError } from '../../core/errors.js';
import { applyProgress, emptySnapshot } from '../../core/progress.js';
import type { JobQueue, QueueEvent } from '../../queue/types.js';
import type { Log } from './deps.js';
import type { TelegramNotifier } from './notifier.js';

/** Subscribes to the queue; returns the unsubscribe function. */
export function relayQueueEvents(queue: JobQueue, notifier: TelegramNotifier, log: Log = () => undefined): () => void {
  const relay = async (event: QueueEvent): Promise<void> => {
    const isPlace = event.type === 'progress' && event.event.type === 'queued';
    if (!isPlace && event.type !== 'cancelled') return;
    const info = await queue.get(event.jobId);
    const target = info?.data.target;
    if (target?.platform !== 'telegram' || target.progressMessageId === undefined) return;
    if (event.type === 'progress' && event.event.type === 'queued') {
      await notifier.progress(target, applyProgress(emptySnapshot(), event.event), event.jobId);
    } else if (event.type === 'cancelled') {
      await notifier.fail(target, new ReelforgeError('cancelled', 'The job was cancelled.'));
    }
  };
  return queue.subscribe((event) => {
    // Listeners are called synchronously by the queue; the chat update happens on its own time.
    void relay(event).catch((error: unknown) => log('telegram relay failed', { jobId: event.jobId, error: String(error) }));
  });
}
