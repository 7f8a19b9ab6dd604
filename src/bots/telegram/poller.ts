/**
 * Long polling that confirms an update to Telegram only after its handler has finished.
 *
 * `getUpdates` with `offset = N` tells Telegram to forget every update below N. @grammyjs/runner
 * moves the offset past a batch as soon as it is fetched, so the next poll confirms updates whose
 * handlers are still running: a crash then (a SIGKILL while a /video waits on a 429 before it is
 * enqueued) loses the request for good. Here the offset never passes an update still being
 * handled. Updates are still handled concurrently (one at a time per chat, by the bot's
 * `sequentialize`): while one is in flight, the poller asks from that update on, skips the ones it
 * has already seen (ids up to the highest fetched) and polls again about once a second. After a
 * crash Telegram delivers the unconfirmed updates again; a /video's idempotency key turns a
 * redelivery into the same job, and other commands are safe to answer twice.
 */
import { BotError, GrammyError, type Bot, type Context } from 'grammy';
import type { Update } from 'grammy/types';
import type { Logger } from '../../log.js';

export interface PollerOptions {
  /** getUpdates hold time in seconds (Telegram's usual is 30). */
  timeoutSec: number;
  allowedUpdates: ReadonlyArray<Exclude<keyof Update, 'update_id'>>;
  log: Logger;
  /** Updates handled at once at most; further polls wait for a free slot. */
  maxInFlight?: number;
  /** While an update is in flight, how often to poll for newer ones (ms). */
  busyPollMs?: number;
}

export interface UpdatePoller {
  /** Settles when polling ends: resolves on stop, rejects with the Bot API error on 401 or 409. */
  task(): Promise<void> | undefined;
  isRunning(): boolean;
  /** Stops polling, lets updates in flight finish (up to `drainMs`), then confirms the handled ones. */
  stop(drainMs?: number): Promise<void>;
}

const MAX_BACKOFF_MS = 30_000;

export function startPolling(bot: Bot, options: PollerOptions): UpdatePoller {
  const log = options.log;
  const maxInFlight = options.maxInFlight ?? 100;
  const busyPollMs = options.busyPollMs ?? 1000;
  const stopping = new AbortController();
  const inFlight = new Map<number, Promise<void>>();
  /** Highest update_id fetched so far; everything up to it has been handed to a handler. */
  let maxSeen = -1;
  let running = true;
  let changed: () => void = () => undefined;

  /** The first update Telegram must keep: the oldest still in flight, else the one after the newest seen. */
  const offset = (): number => (inFlight.size > 0 ? Math.min(...inFlight.keys()) : maxSeen + 1);

  /** Resolves when a handler finishes, `ms` pass, or polling stops. */
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        stopping.signal.removeEventListener('abort', done);
        changed = () => undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      changed = done;
      stopping.signal.addEventListener('abort', done, { once: true });
    });

  const handle = (update: Update): void => {
    const work = (async () => {
      try {
        await bot.handleUpdate(update);
      } catch (error: unknown) {
        if (error instanceof BotError) await bot.errorHandler(error as BotError<Context>);
        else throw error;
      }
    })()
      .catch((error: unknown) => log.error('telegram update failed', { updateId: update.update_id, error: String(error) }))
      .finally(() => {
        inFlight.delete(update.update_id);
        changed();
      });
    inFlight.set(update.update_id, work);
  };

  const loop = async (): Promise<void> => {
    let backoffMs = 100;
    while (!stopping.signal.aborted) {
      if (inFlight.size >= maxInFlight) {
        await pause(busyPollMs);
        continue;
      }
      const busy = inFlight.size > 0;
      let updates: Update[];
      try {
        updates = await bot.api.getUpdates(
          {
            offset: offset(),
            limit: 100,
            // Updates in flight stay unconfirmed, so Telegram would answer at once anyway.
            timeout: busy ? 0 : options.timeoutSec,
            allowed_updates: options.allowedUpdates,
          },
          // grammY types its signal with the abort-controller shim; a native AbortSignal is what it uses at run time.
          stopping.signal as Parameters<Bot['api']['getUpdates']>[1],
        );
        backoffMs = 100;
      } catch (error: unknown) {
        if (stopping.signal.aborted) return;
        if (error instanceof GrammyError && (error.error_code === 401 || error.error_code === 409)) throw error;
        const retryAfter = error instanceof GrammyError ? error.parameters.retry_after : undefined;
        const waitMs = retryAfter !== undefined ? retryAfter * 1000 : backoffMs;
        log.warn('telegram getUpdates failed, retrying', { error: String(error), retryInMs: waitMs });
        await pause(waitMs);
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
        continue;
      }
      const fresh = updates.filter((u) => u.update_id > maxSeen);
      for (const update of fresh) {
        maxSeen = Math.max(maxSeen, update.update_id);
        handle(update);
      }
      if (fresh.length === 0 && busy) await pause(busyPollMs);
    }
  };

  let task: Promise<void> | undefined = loop().finally(() => {
    running = false;
  });
  // The supervisor awaits the task; this only keeps a rejection from counting as unhandled meanwhile.
  task.catch(() => undefined);

  return {
    task: () => task,
    isRunning: () => running,
    stop: async (drainMs = 10_000) => {
      const current = task;
      task = undefined;
      stopping.abort();
      await current?.catch(() => undefined);
      const drained = Promise.all([...inFlight.values()]).then(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([drained, new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs)))]);
      clearTimeout(timer);
      // Confirm what was handled, as grammY's own bot.stop() does; if this fails, Telegram only delivers it again.
      if (maxSeen >= 0) {
        await bot.api.getUpdates({ offset: offset(), limit: 1, timeout: 0 }).catch((error: unknown) =>
          log.warn('telegram could not confirm handled updates', { error: String(error) }),
        );
      }
    },
  };
}
