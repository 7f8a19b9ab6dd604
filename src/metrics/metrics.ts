/**
 * The Prometheus metrics (prom-client, imported here only). Every series is prefixed `reelforge_`;
 * Node's default metrics (CPU, memory, event loop lag, GC) come with the same prefix.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Receipt } from '../core/receipt.js';

export type JobOutcome = 'queued' | 'completed' | 'failed' | 'retried' | 'cancelled' | 'refused';

export interface Metrics {
  readonly registry: Registry;
  /** A job changed state; `tier` is `auto` until the pipeline has chosen one. */
  job(outcome: JobOutcome, labels: { platform: string; tier: string }): void;
  /** Seconds a job waited in the queue before a worker started it. */
  queueWait(seconds: number): void;
  /** A finished job's receipt: tokens, images, speech, dollars, stage durations, render speed. */
  receipt(receipt: Receipt): void;
  /** A provider failure that ended or retried a job, by error code. */
  providerError(kind: string): void;
  /** Bytes uploaded to a chat. */
  upload(platform: string, bytes: number): void;
  /** Called on every scrape: the number of waiting and running jobs, or undefined when the queue cannot say. */
  setQueueSource(source: () => Promise<{ waiting: number; active: number } | undefined>): void;
  /** The Prometheus text exposition of every series. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

const PREFIX = 'reelforge_';

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: PREFIX });
  const registers = [registry];

  const jobs = new Counter({ name: `${PREFIX}jobs_total`, help: 'Jobs by state (queued, completed, failed, retried, cancelled, refused), tier and platform', labelNames: ['state', 'tier', 'platform'], registers });
  const stage = new Histogram({
    name: `${PREFIX}stage_duration_seconds`,
    help: 'Each pipeline stage of a finished job, from its first start to its last end',
    labelNames: ['stage'],
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320],
    registers,
  });
  const wait = new Histogram({ name: `${PREFIX}queue_wait_seconds`, help: 'Time from enqueue to a worker starting the job', buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800], registers });
  let queueSource: () => Promise<{ waiting: number; active: number } | undefined> = () => Promise.resolve(undefined);
  const queueGauge = (name: string, help: string, pick: (s: { waiting: number; active: number }) => number): Gauge =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const stats = await queueSource().catch(() => undefined);
        if (stats) this.set(pick(stats));
      },
    });
  queueGauge(`${PREFIX}queue_waiting_jobs`, 'Jobs waiting in the queue (all processes)', (s) => s.waiting);
  queueGauge(`${PREFIX}queue_active_jobs`, 'Jobs running (all processes)', (s) => s.active);
  const tokens = new Counter({ name: `${PREFIX}llm_tokens_total`, help: 'LLM tokens of finished jobs, by kind (prompt, completion)', labelNames: ['kind'], registers });
  const llmCalls = new Counter({ name: `${PREFIX}llm_calls_total`, help: 'LLM calls of finished jobs', registers });
  const images = new Counter({ name: `${PREFIX}images_total`, help: 'Images of finished jobs, by source (generated, reused from the cache)', labelNames: ['source'], registers });
  const speech = new Counter({ name: `${PREFIX}speech_characters_total`, help: 'Characters sent to speech synthesis by finished jobs', registers });
  const dollars = new Counter({ name: `${PREFIX}estimated_cost_dollars_total`, help: 'Estimated provider cost of finished jobs, in US dollars', registers });
  const videoSeconds = new Counter({ name: `${PREFIX}video_seconds_total`, help: 'Seconds of video made', registers });
  const errors = new Counter({ name: `${PREFIX}provider_errors_total`, help: 'Provider failures that ended or retried a job, by kind', labelNames: ['kind'], registers });
  const uploads = new Counter({ name: `${PREFIX}upload_bytes_total`, help: 'Bytes of video uploaded to chats', labelNames: ['platform'], registers });
  const speed = new Histogram({
    name: `${PREFIX}render_speed_ratio`,
    help: 'Seconds of video made per second of wall time, per job (above 1 is faster than real time)',
    buckets: [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
    registers,
  });

  return {
    registry,
    job: (outcome, labels) => jobs.inc({ state: outcome, tier: labels.tier, platform: labels.platform }),
    queueWait: (seconds) => wait.observe(Math.max(0, seconds)),
    receipt(r) {
      tokens.inc({ kind: 'prompt' }, r.llm.promptTokens);
      tokens.inc({ kind: 'completion' }, r.llm.completionTokens);
      llmCalls.inc(r.llm.calls);
      images.inc({ source: 'generated' }, r.images.generated);
      images.inc({ source: 'reused' }, r.images.reused);
      speech.inc(r.ttsCharacters);
      dollars.inc(r.costUsd);
      videoSeconds.inc(r.durationSec);
      for (const [name, ms] of Object.entries(r.timingsMs)) if (name !== 'total' && Number.isFinite(ms)) stage.observe({ stage: name }, ms / 1000);
      const total = r.timingsMs.total;
      if (total && total > 0) speed.observe(r.durationSec / (total / 1000));
    },
    providerError: (kind) => errors.inc({ kind }),
    upload: (platform, bytes) => uploads.inc({ platform }, bytes),
    setQueueSource(source) {
      queueSource = source;
    },
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
