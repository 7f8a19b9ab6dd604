/**
 * The operator's endpoints: a scrape after a job through a real queue shows the counters moved and
 * parses as Prometheus text; /readyz turns unready when a real Redis is stopped.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withAdmission } from '../../src/access/admission.js';
import type { Receipt } from '../../src/core/receipt.js';
import { ReelforgeError } from '../../src/core/errors.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { withJobMetrics } from '../../src/metrics/observe-jobs.js';
import { startMetricsServer } from '../../src/metrics/server.js';
import { BullMqJobQueue } from '../../src/queue/bullmq-queue.js';
import { LocalJobQueue } from '../../src/queue/local-queue.js';
import type { VideoJobData } from '../../src/queue/types.js';
import { MemorySettingsStore } from '../../src/store/memory-settings-store.js';
import { startRedisServer } from '../helpers/redis-server.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const receipt: Receipt = {
  output: '/out/v.mp4', title: 'Tea', durationSec: 12, width: 1080, height: 1920, sizeBytes: 2_000_000, tier: 'ultra_fast', segments: 3, offline: false, lang: 'en',
  llm: { calls: 1, promptTokens: 900, completionTokens: 300, totalTokens: 1200 }, images: { generated: 3, reused: 1 }, ttsCharacters: 180, costUsd: 0.021,
  timingsMs: { script: 1500, images: 4000, voice: 2000, render: 3000, total: 6000 },
};

function data(userId: string): VideoJobData {
  return {
    request: { topic: 'Tea', durationSec: 12, lang: 'en', aspect: '9:16' },
    owner: { platform: 'telegram', userId, chatId: userId },
    target: { platform: 'telegram', chatId: Number(userId), locale: 'en' },
    createdAt: Date.now(),
  };
}

/** Parses the text exposition format: every line a comment or `name{labels} value`. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/.exec(line);
    expect(match, `not a sample line: ${line}`).not.toBeNull();
    samples.set(`${match![1]}${match![2] ?? ''}`, Number(match![3]));
  }
  return samples;
}

describe('the metrics server', () => {
  it('serves /healthz, and a /metrics scrape after a job shows what the job did', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'reelforge-metrics-'));
    dirs.push(dir);
    const metrics = createMetrics();
    const inner = await LocalJobQueue.open({ dir, userWaiting: 5 });
    const queue = withAdmission(inner, {
      settings: new MemorySettingsStore(),
      policy: { adminIds: new Set(), allowedUsers: new Set(['telegram:5']), allowedChats: null, limits: {} },
      estimateUsd: () => 0.05,
      onOutcome: (outcome, d) => metrics.job(outcome, { platform: d.owner.platform, tier: d.request.tier ?? 'auto' }),
    });
    metrics.setQueueSource(() => inner.stats());
    const server = await startMetricsServer({ port: 0, host: '127.0.0.1', metrics, checks: { queue: () => inner.stats().then(() => true as const) } });
    const base = `http://127.0.0.1:${server.port}`;
    try {
      expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok\n');
      const before = parsePrometheus(await (await fetch(`${base}/metrics`)).text());
      expect(before.get('reelforge_jobs_total{state="completed",tier="ultra_fast",platform="telegram"}')).toBeUndefined();

      let fail = true;
      const done = new Promise<void>((resolve) => inner.subscribe((e) => e.type === 'completed' && resolve()));
      await queue.work(
        withJobMetrics(() => {
          // The first attempt meets a provider outage and is retried; the second delivers.
          if (fail) {
            fail = false;
            return Promise.reject(new ReelforgeError('provider_unavailable', 'down', { retryable: true }));
          }
          return Promise.resolve({ receipt });
        }, metrics),
      );
      await queue.enqueue(data('5'), { idempotencyKey: 'one' });
      await expect(queue.enqueue(data('6'), { idempotencyKey: 'two' })).rejects.toMatchObject({ code: 'not_allowed' });
      await done;

      const response = await fetch(`${base}/metrics`);
      expect(response.headers.get('content-type')).toContain('text/plain');
      const text = await response.text();
      const after = parsePrometheus(text);
      expect(after.get('reelforge_jobs_total{state="queued",tier="auto",platform="telegram"}')).toBe(1);
      expect(after.get('reelforge_jobs_total{state="refused",tier="auto",platform="telegram"}')).toBe(1);
      expect(after.get('reelforge_jobs_total{state="retried",tier="auto",platform="telegram"}')).toBe(1);
      expect(after.get('reelforge_jobs_total{state="completed",tier="ultra_fast",platform="telegram"}')).toBe(1);
      expect(after.get('reelforge_provider_errors_total{kind="provider_unavailable"}')).toBe(1);
      expect(after.get('reelforge_llm_tokens_total{kind="prompt"}')).toBe(900);
      expect(after.get('reelforge_llm_tokens_total{kind="completion"}')).toBe(300);
      expect(after.get('reelforge_images_total{source="generated"}')).toBe(3);
      expect(after.get('reelforge_speech_characters_total')).toBe(180);
      expect(after.get('reelforge_estimated_cost_dollars_total')).toBeCloseTo(0.021, 9);
      expect(after.get('reelforge_upload_bytes_total{platform="telegram"}')).toBe(2_000_000);
      expect(after.get('reelforge_stage_duration_seconds_count{stage="images"}')).toBe(1);
      expect(after.get('reelforge_stage_duration_seconds_sum{stage="images"}')).toBe(4);
      expect(after.get('reelforge_render_speed_ratio_sum')).toBe(2);
      expect(after.get('reelforge_queue_wait_seconds_count')).toBe(1);
      expect(after.get('reelforge_queue_waiting_jobs')).toBe(0);
      // Node's default metrics, with the same prefix; no series without it.
      expect(after.has('reelforge_process_resident_memory_bytes')).toBe(true);
      expect([...after.keys()].every((name) => name.startsWith('reelforge_'))).toBe(true);
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    } finally {
      await server.close();
      await queue.close();
    }
  });

  it('answers /readyz 200 while Redis is up and 503 once it is stopped', async () => {
    const redis = await startRedisServer();
    const queue = await BullMqJobQueue.open({ url: redis.url, name: `readyz-${Date.now()}`, log: () => undefined });
    const server = await startMetricsServer({
      port: 0,
      host: '127.0.0.1',
      metrics: createMetrics({ defaultMetrics: false }),
      checks: { queue: () => queue.stats().then(() => true as const, () => 'the queue cannot be reached') },
      checkTimeoutMs: 1000,
    });
    const readyz = async (): Promise<{ status: number; body: { ready: boolean; checks: Record<string, string> } }> => {
      const response = await fetch(`http://127.0.0.1:${server.port}/readyz`);
      return { status: response.status, body: (await response.json()) as { ready: boolean; checks: Record<string, string> } };
    };
    try {
      expect(await readyz()).toEqual({ status: 200, body: { ready: true, checks: { queue: 'ok' } } });
      await redis.stop();
      await expect.poll(async () => (await readyz()).status, { timeout: 15_000, interval: 250 }).toBe(503);
      expect((await readyz()).body.ready).toBe(false);
    } finally {
      await server.close();
      // With Redis gone, closing waits for a reconnect that never comes: give it a moment, then move on.
      await Promise.race([queue.close().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2000))]);
    }
  });
});
