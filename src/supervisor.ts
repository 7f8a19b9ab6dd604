/**
 * Watches the long-lived parts of a service (the Telegram runner or webhook server, the Discord
 * client, the queue's workers) and decides when the process stops. A part reports an unrecoverable
 * condition (a rival poller, a revoked token) through `fatal`; a signal asks for a stop; either way
 * the service runs its one shutdown path, which hands running jobs back to the queue. The process
 * handlers are the last net: an unhandled rejection is a bug, logged, and also ends in that shutdown.
 */
import { ReelforgeError, toReelforgeError } from './core/errors.js';
import type { Logger } from './log.js';

export type StopReason =
  | { kind: 'signal'; signal: string }
  | { kind: 'fatal'; task: string; error: ReelforgeError };

export class Supervisor {
  private reason: StopReason | undefined;
  private readonly waiters: Array<(reason: StopReason) => void> = [];

  constructor(private readonly log: Logger) {}

  /** A part cannot go on: the first report stops the service; later ones are only logged. */
  fatal(task: string, error: unknown): void {
    const e = toReelforgeError(error);
    this.log.error(`${task} stopped: ${e.message}`, { task, code: e.code, ...(e.cause !== undefined ? { cause: describe(e.cause) } : {}) });
    this.settle({ kind: 'fatal', task, error: e });
  }

  /** A signal (SIGINT, SIGTERM) or an operator asked for a stop. */
  stop(signal: string): void {
    if (!this.reason) this.log.info('shutting down', { signal });
    this.settle({ kind: 'signal', signal });
  }

  /** Resolves with the first reason to stop. */
  wait(): Promise<StopReason> {
    if (this.reason) return Promise.resolve(this.reason);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get stopping(): boolean {
    return this.reason !== undefined;
  }

  /**
   * SIGINT/SIGTERM stop the service; an unhandled rejection or uncaught exception is logged (never
   * a raw trace on the console) and stops it too. Returns the function that removes the handlers.
   */
  watchProcess(): () => void {
    const onSigint = (): void => this.stop('SIGINT');
    const onSigterm = (): void => this.stop('SIGTERM');
    const onRejection = (reason: unknown): void =>
      this.fatal('process', new ReelforgeError('internal', 'An unexpected error was not handled (a bug); shutting down cleanly.', { cause: reason }));
    const onException = (error: Error): void =>
      this.fatal('process', new ReelforgeError('internal', 'An unexpected exception was not caught (a bug); shutting down cleanly.', { cause: error }));
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
    return () => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    };
  }

  private settle(reason: StopReason): void {
    if (this.reason) return;
    this.reason = reason;
    for (const resolve of this.waiters.splice(0)) resolve(reason);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
