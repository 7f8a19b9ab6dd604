/**
 * One run's shared control: a single abort signal that the caller's cancel or the first failure
 * trips (every provider call and render listens to it), the progress listener (a broken one never
 * breaks the render), the stage clock for the receipt's timings, and the tasks to wait for so that
 * nothing outlives the run.
 */
import { setMaxListeners } from 'node:events';
import { throwIfCancelled, toReelforgeError, type ReelforgeError } from '../core/errors.js';
import type { ProgressEvent, ProgressListener } from '../core/progress.js';

export class RunControl {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private firstError: ReelforgeError | undefined;
  private readonly spans = new Map<string, { start: number; end: number }>();
  private readonly tasks: Array<Promise<unknown>> = [];
  private readonly startedAt: number;
  private readonly onOuterAbort = (): void => this.fail(this.outer?.reason);

  constructor(
    private readonly outer: AbortSignal | undefined,
    private readonly listener: ProgressListener | undefined,
    private readonly now: () => number,
  ) {
    this.startedAt = now();
    this.signal = this.controller.signal;
    // Every provider call and render listens to this one signal.
    setMaxListeners(0, this.signal);
    // The caller's reason (a person's cancel, or a shutdown the job resumes from) is the run's error.
    if (outer?.aborted) this.onOuterAbort();
    else outer?.addEventListener('abort', this.onOuterAbort, { once: true });
  }

  /** The first failure (or the cancel), if any. */
  get error(): ReelforgeError | undefined {
    return this.firstError;
  }

  /** Records the first failure and stops every task of the run. */
  readonly fail = (error: unknown): void => {
    this.firstError ??= toReelforgeError(error);
    this.controller.abort(this.firstError);
  };

  /** Throws when the run was cancelled or has failed. */
  check(): void {
    throwIfCancelled(this.signal);
    if (this.firstError) throw this.firstError;
  }

  /** Watches a task: its failure fails the run, and the run waits for it before it ends. */
  track<T>(task: Promise<T>): Promise<T> {
    task.catch(this.fail);
    this.tasks.push(task);
    return task;
  }

  emit(event: ProgressEvent): void {
    try {
      this.listener?.(event);
    } catch {
      // A broken progress viewer must not break the render.
    }
  }

  /** Marks a moment of a stage: the stage's span runs from its first mark to its last. */
  mark(stage: string): void {
    const t = this.now();
    const span = this.spans.get(stage);
    if (!span) this.spans.set(stage, { start: t, end: t });
    else span.end = t;
  }

  /** Milliseconds each stage spanned, and the whole run's so far. */
  timings(): Record<string, number> {
    const timings: Record<string, number> = {};
    for (const [stage, span] of this.spans) timings[stage] = Math.round(span.end - span.start);
    timings.total = Math.round(this.now() - this.startedAt);
    return timings;
  }

  /** Waits for every tracked task to settle, so no ffmpeg or HTTP call outlives the run. */
  async close(): Promise<void> {
    this.outer?.removeEventListener('abort', this.onOuterAbort);
    await Promise.allSettled(this.tasks);
  }
}
