/**
 * Throughput: finished videos per hour on this machine, through the LocalJobQueue and the real
 * runtime (offline providers, FfmpegAssembler with its render pool bounded by cores), with 1, 2
 * and 4 jobs generating at once. 20 s ultra_fast videos keep it short.
 *
 *   node bin/run-ts.mjs bench/throughput.ts [--quick]
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { createRuntime } from '../src/main.js';
import { LocalJobQueue } from '../src/queue/local-queue.js';
import type { VideoJobData } from '../src/queue/types.js';
import { median, printTable, round } from './table.js';

export interface ThroughputRow {
  concurrency: number;
  jobs: number;
  wallSec: number;
  videosPerHour: number;
  /** Enqueue to completion, per job. */
  medianJobSec: number;
  failed: number;
}

export interface ThroughputResult {
  videoSec: number;
  cores: number;
  renderPool: number;
  /** GENERATION_CONCURRENCY's default on this machine. */
  defaultConcurrency: number;
  rows: ThroughputRow[];
}

const TOPICS = ['The history of tea', 'How volcanoes form', 'The first flight', 'Why the sky is blue', 'The silk road', 'Honeybees', 'The printing press', 'Deep sea creatures'];

export async function benchThroughput(options: { jobs?: number; durationSec?: number; settings?: number[] } = {}): Promise<ThroughputResult> {
  const jobs = options.jobs ?? 4;
  const durationSec = options.durationSec ?? 20;
  const dataDir = await mkdtemp(join(tmpdir(), 'reelforge-bench-throughput-'));
  try {
    const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    const runtime = createRuntime(config, createLogger('silent'));
    const settings = [...new Set(options.settings ?? [1, 2, 4])];
    const rows: ThroughputRow[] = [];
    for (const concurrency of settings) {
      const queue = await LocalJobQueue.open({ dir: join(dataDir, `queue-${concurrency}`), concurrency, attempts: 1 });
      const enqueuedAt = new Map<string, number>();
      const took: number[] = [];
      let failed = 0;
      let finish: () => void = () => undefined;
      const allDone = new Promise<void>((resolve) => (finish = resolve));
      queue.subscribe((event) => {
        if (event.type !== 'completed' && event.type !== 'failed') return;
        if (event.type === 'failed') failed++;
        took.push((performance.now() - (enqueuedAt.get(event.jobId) ?? 0)) / 1000);
        if (took.length === jobs) finish();
      });
      try {
        await queue.work(async (job) => {
          const output = await runtime.render(job.data.request, { jobId: job.id, signal: job.signal });
          return { receipt: output.receipt };
        });
        const t0 = performance.now();
        for (let i = 0; i < jobs; i++) {
          const data: VideoJobData = {
            request: { topic: TOPICS[i % TOPICS.length]!, durationSec, tier: 'ultra_fast', lang: 'en', aspect: '9:16' },
            owner: { platform: 'telegram', userId: `bench-${concurrency}-${i}` },
            target: null,
            createdAt: Date.now(),
          };
          const { id } = await queue.enqueue(data, { idempotencyKey: randomUUID() });
          enqueuedAt.set(id, performance.now());
        }
        await allDone;
        const wallSec = (performance.now() - t0) / 1000;
        rows.push({
          concurrency,
          jobs,
          wallSec: round(wallSec, 1),
          videosPerHour: Math.round((jobs - failed) / (wallSec / 3600)),
          medianJobSec: round(median(took), 1),
          failed,
        });
      } finally {
        await queue.close();
      }
    }
    return {
      videoSec: durationSec,
      cores: availableParallelism(),
      renderPool: config.concurrency.render,
      defaultConcurrency: config.concurrency.generation,
      rows,
    };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

export function printThroughput(r: ThroughputResult, write?: (line: string) => void): void {
  const atDefault = r.rows.find((row) => row.concurrency === r.defaultConcurrency);
  printTable(
    `Throughput: ${r.videoSec} s ultra_fast offline videos through LocalJobQueue + the real render, ${r.cores} cores, render pool ${r.renderPool}`,
    ['jobs at once', 'videos', 'wall s', 'videos/hour', 'median job s', 'failed'],
    r.rows.map((row) => [`${row.concurrency}${row.concurrency === r.defaultConcurrency ? ' (default)' : ''}`, row.jobs, row.wallSec, row.videosPerHour, row.medianJobSec, row.failed]),
    atDefault ? [`default concurrency (${r.defaultConcurrency}): ${atDefault.videosPerHour} videos/hour`] : [],
    write,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  printThroughput(await benchThroughput(quick ? { jobs: 2 } : {}));
}
