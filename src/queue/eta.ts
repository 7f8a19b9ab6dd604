/**
 * Place-in-line arithmetic shared by both queues: how long until each waiting job's video is ready,
 * from the measured average job duration, the running jobs' elapsed time and the worker slots.
 */

/** Recent completed-job durations kept for the average: enough to smooth, few enough to follow change. */
export const DURATION_SAMPLES = 20;

export function averageMs(samplesMs: readonly number[], defaultMs: number): number {
  if (samplesMs.length === 0) return defaultMs;
  return samplesMs.reduce((a, b) => a + b, 0) / samplesMs.length;
}

export interface EtaInput {
  /** Elapsed time of each running job. */
  runningElapsedMs: readonly number[];
  /** Number of waiting jobs, in run order. */
  waiting: number;
  /** Jobs that run at once (all workers together). */
  slots: number;
  avgJobMs: number;
}

/**
 * Seconds until each waiting job finishes: a tiny simulation that gives each waiting job the slot
 * that frees first. A running job is assumed to need the average, but at least a tenth of it more.
 */
export function estimateEtas(input: EtaInput): number[] {
  const { avgJobMs } = input;
  const slots = Array.from({ length: Math.max(1, input.slots) }, (_, i) => {
    const elapsed = input.runningElapsedMs[i];
    return elapsed === undefined ? 0 : Math.max(avgJobMs * 0.1, avgJobMs - elapsed);
  });
  const etas: number[] = [];
  for (let i = 0; i < input.waiting; i++) {
    let best = 0;
    for (let k = 1; k < slots.length; k++) if ((slots[k] ?? 0) < (slots[best] ?? 0)) best = k;
    const end = (slots[best] ?? 0) + avgJobMs;
    slots[best] = end;
    etas.push(Math.max(1, Math.ceil(end / 1000)));
  }
  return etas;
}
