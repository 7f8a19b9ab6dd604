/**
 * Runs a start-up call that the bot can live without (the command menu) in the background: each
 * attempt has its own deadline, failures are logged and retried with backoff until an overall
 * deadline, and a stop ends the loop at once. It never throws: start-up never waits on it.
 */
import type { Logger } from '../../log.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReelforgeError } from '../../core/errors.js';

export type Log = Logger;

export interface RetryTiming {
  /** One attempt is abandoned after this long (a hung call). */
  attemptTimeoutMs?: number;
  /** No new attempt starts after this long. */
  deadlineMs?: number;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

export interface BackgroundRetryOptions extends RetryTiming {
  /** What is being done, for the log: "register the Telegram command menu". */
  what: string;
  attempt: (signal: AbortSignal) => Promise<void>;
  /** Ends the loop (shutdown). */
  signal: AbortSignal;
  log: Log;
  /** An error retrying cannot fix (a revoked token): reported once and the loop ends. */
  unrecoverable?: (error: unknown) => ReelforgeError | undefined;
  onUnrecoverable?: (error: ReelforgeError) => void;
}

export type BackgroundOutcome = 'done' | 'gave_up' | 'stopped' | 'unrecoverable';

export async function retryInBackground(options: BackgroundRetryOptions): Promise<BackgroundOutcome> {
  const { what, log, signal } = options;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 15_000;
  const deadline = Date.now() + (options.deadlineMs ?? 10 * 60_000);
  let delay = options.firstDelayMs ?? 1000;
  const maxDelay = options.maxDelayMs ?? 60_000;
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) return 'stopped';
    try {
      await options.attempt(AbortSignal.any([signal, AbortSignal.timeout(attemptTimeoutMs)]));
      if (attempt > 1) log.info(`${what}: done after ${attempt} attempts`);
      return 'done';
    } catch (error: unknown) {
      if (signal.aborted) return 'stopped';
      const fatal = options.unrecoverable?.(error);
      if (fatal) {
        options.onUnrecoverable?.(fatal);
        return 'unrecoverable';
      }
      const next = Math.min(delay, maxDelay);
      if (Date.now() + next > deadline) {
        log.warn(`${what}: giving up after ${attempt} attempts; the bot works without it`, { error: describe(error) });
        return 'gave_up';
      }
      log.warn(`${what}: failed, retrying in the background`, { attempt, retryInMs: next, error: describe(error) });
      try {
        await sleep(next, undefined, { signal });
      } catch {
        return 'stopped';
      }
      delay = next * 2;
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.name === 'TimeoutError' ? 'no answer in time' : `${error.name}: ${error.message}`;
  return String(error);
}
