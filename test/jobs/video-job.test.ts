import { loggerInto, type LoggedLine } from '../helpers/logs.js';
import { describe, expect, it } from 'vitest';
import type { ChatTarget, TelegramTarget } from '../../src/core/chat-target.js';
import { ReelforgeError, cancelled, paramsOf } from '../../src/core/errors.js';
import type { ProgressSnapshot } from '../../src/core/progress.js';
import type { Receipt } from '../../src/core/receipt.js';
import type { DeliverInput, Notifier } from '../../src/jobs/notifier.js';
import { createVideoJobProcessor, notifierRegistry, type RenderVideo } from '../../src/jobs/video-job.js';
import { classifyJobEnd } from '../../src/queue/job-end.js';
import type { JobContext } from '../../src/queue/types.js';

const target: TelegramTarget = { platform: 'telegram', chatId: 5, progressMessageId: 9, locale: 'en' };

class RecordingNotifier implements Notifier<TelegramTarget> {
  readonly platform = 'telegram' as const;
  readonly snapshots: ProgressSnapshot[] = [];
  readonly delivered: DeliverInput[] = [];
  readonly failures: ReelforgeError[] = [];
  constructor(private readonly limit = 50 * 1024 * 1024) {}
  uploadLimitBytes(): number {
    return this.limit;
  }
  progress(_t: TelegramTarget, snapshot: ProgressSnapshot): Promise<void> {
    this.snapshots.push(snapshot);
    return Promise.resolve();
  }
  deliver(_t: TelegramTarget, video: DeliverInput): Promise<void> {
    this.delivered.push(video);
    return Promise.resolve();
  }
  fail(_t: TelegramTarget, error: ReelforgeError): Promise<void> {
    this.failures.push(error);
    return Promise.resolve();
  }
}

const receipt = { output: '/out/v.mp4', title: 'Tea', durationSec: 12, sizeBytes: 3_000_000 } as Receipt;

function jobContext(overrides: Partial<JobContext> = {}, chat: ChatTarget | null = target): JobContext {
  return {
    id: 'j1',
    attempt: 1,
    lastAttempt: true,
    signal: new AbortController().signal,
    progress: () => undefined,
    data: { request: { topic: 'Tea', durationSec: 12, lang: 'en', aspect: '9:16' }, owner: { platform: 'telegram', userId: '1' }, target: chat, createdAt: 0 },
    ...overrides,
  };
}

describe('the video job', () => {
  it('shows progress, delivers the file and reports the upload stage', async () => {
    const notifier = new RecordingNotifier();
    const render: RenderVideo = (_data, { onProgress }) => {
      onProgress({ type: 'started', offline: true, tier: 'ultra_fast' });
      onProgress({ type: 'count', stage: 'images', done: 1, total: 2 });
      return Promise.resolve({ path: '/out/v.mp4', receipt, thumbnailPath: '/out/v.jpg' });
    };
    const result = await createVideoJobProcessor({ render, notifiers: notifierRegistry([notifier]) })(jobContext());
    expect(result.receipt.output).toBe('/out/v.mp4');
    expect(notifier.delivered).toEqual([{ path: '/out/v.mp4', receipt, thumbnailPath: '/out/v.jpg' }]);
    expect(notifier.snapshots.at(-1)?.stages.upload.status).toBe('done');
    expect(notifier.snapshots.some((s) => s.stages.images.done === 1)).toBe(true);
    expect(notifier.failures).toEqual([]);
  });

  it('records its delivery with the queue right after the upload, and a later failure neither fails the job nor reaches the chat', async () => {
    const recorded: unknown[] = [];
    const notifier = new RecordingNotifier();
    const controller = new AbortController();
    const render: RenderVideo = () => Promise.resolve({ path: '/out/v.mp4', receipt });
    const job = jobContext({
      signal: controller.signal,
      recordDelivered: (result) => {
        recorded.push(result);
        expect(notifier.delivered).toHaveLength(1); // never before the video is sent
        // What follows the upload fails: a cancel pressed too late, and the queue's own write.
        controller.abort(cancelled());
        return Promise.reject(new Error('the queue stopped'));
      },
    });
    const result = await createVideoJobProcessor({ render, notifiers: notifierRegistry([notifier]) })(job);
    expect(recorded).toEqual([{ receipt: { ...receipt, output: '/out/v.mp4' } }]);
    expect(result).toEqual(recorded[0]);
    expect(notifier.failures).toEqual([]);
  });

  it('removes a chat job\'s files once it has ended, whatever the outcome', async () => {
    const discarded: string[][] = [];
    const discard = (paths: string[]): Promise<void> => {
      discarded.push(paths);
      return Promise.resolve();
    };
    const notifier = new RecordingNotifier();
    await createVideoJobProcessor({ render: () => Promise.resolve({ path: '/out/a.mp4', receipt, thumbnailPath: '/out/a.jpg' }), notifiers: notifierRegistry([notifier]), discard })(jobContext());
    notifier.deliver = () => Promise.reject(new ReelforgeError('too_large', 'no'));
    await expect(createVideoJobProcessor({ render: () => Promise.resolve({ path: '/out/b.mp4', receipt }), notifiers: notifierRegistry([notifier]), discard })(jobContext())).rejects.toMatchObject({ code: 'too_large' });
    expect(discarded).toEqual([['/out/a.mp4', '/out/a.jpg'], ['/out/b.mp4']]);
  });

  it('asks the render to aim under the chat\'s upload limit', async () => {
    const notifier = new RecordingNotifier(10 * 1024 * 1024);
    const asked: Array<number | undefined> = [];
    const render: RenderVideo = (_data, options) => {
      asked.push(options.maxBytes);
      return Promise.resolve({ path: '/out/v.mp4', receipt });
    };
    await createVideoJobProcessor({ render, notifiers: notifierRegistry([notifier]) })(jobContext());
    await createVideoJobProcessor({ render, notifiers: notifierRegistry([notifier]) })(jobContext({}, null));
    expect(asked).toEqual([10 * 1024 * 1024, undefined]);
  });

  it('re-encodes a file over the chat limit before uploading it', async () => {
    const notifier = new RecordingNotifier(1_000_000);
    const fits: Array<[string, string, number]> = [];
    const processor = createVideoJobProcessor({
      render: () => Promise.resolve({ path: '/out/v.mp4', receipt }),
      notifiers: notifierRegistry([notifier]),
      assembler: {
        fitToSize: (path, outPath, maxBytes) => {
          fits.push([path, outPath, maxBytes]);
          return Promise.resolve({ path: '/out/v-small.mp4', sizeBytes: 900_000, width: 720, height: 1280, durationSec: 10 });
        },
      },
    });
    await processor(jobContext());
    expect(fits).toEqual([['/out/v.mp4', '/out/v-0mb.mp4', 1_000_000]]);
    expect(notifier.delivered[0]?.path).toBe('/out/v-small.mp4');
    expect(notifier.delivered[0]?.receipt).toMatchObject({ sizeBytes: 900_000, width: 720, height: 1280 });
  });

  it('tells the chat of a final failure, and of nothing a retry or a restart will fix', async () => {
    const logs: LoggedLine[] = [];
    const failing = (error: ReelforgeError): RenderVideo => () => Promise.reject(error);
    const outage = new ReelforgeError('provider_unavailable', 'down', { retryable: true });

    const retried = new RecordingNotifier();
    await expect(
      createVideoJobProcessor({ render: failing(outage), notifiers: notifierRegistry([retried]), log: loggerInto(logs) })(jobContext({ lastAttempt: false })),
    ).rejects.toBe(outage);
    expect(retried.failures).toEqual([]);

    const final = new RecordingNotifier();
    await expect(createVideoJobProcessor({ render: failing(outage), notifiers: notifierRegistry([final]), log: loggerInto(logs) })(jobContext())).rejects.toBe(outage);
    expect(final.failures.map((e) => e.code)).toEqual(['provider_unavailable']);
    expect(logs.filter((l) => l.line.startsWith('job ')).map((l) => [l.line, l.level])).toEqual([
      ['job started', 'info'],
      ['job failed, will retry', 'warn'],
      ['job started', 'info'],
      ['job failed', 'error'],
    ]);
    expect(logs.every((l) => l.fields?.jobId !== undefined && l.fields.platform !== undefined && l.fields.user !== undefined)).toBe(true);
  });

  it('treats an abort by shutdown as an interruption even when a provider surfaced another error', async () => {
    const controller = new AbortController();
    const notifier = new RecordingNotifier();
    const render: RenderVideo = () => {
      controller.abort(cancelled('shutting down', { retryable: true }));
      return Promise.reject(cancelled('sleep interrupted'));
    };
    const run = createVideoJobProcessor({ render, notifiers: notifierRegistry([notifier]) })(jobContext({ signal: controller.signal }));
    await expect(run).rejects.toMatchObject({ code: 'cancelled', retryable: true });
    expect(notifier.failures).toEqual([]);
  });

  it('says "cancelled" when a person cancels', async () => {
    const controller = new AbortController();
    const notifier = new RecordingNotifier();
    const render: RenderVideo = () => {
      controller.abort(cancelled());
      return Promise.reject(new Error('ffmpeg killed'));
    };
    await expect(createVideoJobProcessor({ render, notifiers: notifierRegistry([notifier]) })(jobContext({ signal: controller.signal }))).rejects.toMatchObject({
      code: 'cancelled',
      retryable: false,
    });
    expect(notifier.failures.map((e) => e.code)).toEqual(['cancelled']);
  });
});

describe('classifyJobEnd', () => {
  const idle = new AbortController().signal;
  it('separates retries, failures, cancels and interruptions', () => {
    expect(classifyJobEnd({ signal: idle, lastAttempt: false }, new ReelforgeError('provider_unavailable', 'x', { retryable: true })).kind).toBe('retry');
    expect(classifyJobEnd({ signal: idle, lastAttempt: true }, new ReelforgeError('provider_unavailable', 'x', { retryable: true })).kind).toBe('failed');
    expect(classifyJobEnd({ signal: idle, lastAttempt: false }, new ReelforgeError('content_policy', 'x')).kind).toBe('failed');
    expect(classifyJobEnd({ signal: idle, lastAttempt: false }, new Error('bug'))).toMatchObject({ kind: 'failed', error: { code: 'internal' } });
    expect(classifyJobEnd({ signal: idle, lastAttempt: false }, cancelled('x')).kind).toBe('cancelled');
    expect(classifyJobEnd({ signal: idle, lastAttempt: false }, cancelled('x', { retryable: true })).kind).toBe('interrupted');
  });
});

describe('the job time limit', () => {
  it('a job past its time limit is stopped, fails for good and the chat is told why', async () => {
    const notifier = new RecordingNotifier();
    let renderSignal: AbortSignal | undefined;
    // A render that hangs until its signal aborts, like a stuck provider call or ffmpeg.
    const render: RenderVideo = (_data, { signal }) => {
      renderSignal = signal;
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new ReelforgeError('cancelled', 'The job was cancelled.')), { once: true }));
    };
    const limits: number[] = [];
    const processor = createVideoJobProcessor({
      render,
      notifiers: notifierRegistry([notifier]),
      timeLimitMs: (durationSec) => {
        limits.push(durationSec);
        return 50;
      },
    });
    const job = jobContext({ lastAttempt: false });
    const error = await processor(job).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(limits).toEqual([12]);
    expect(renderSignal?.aborted).toBe(true);
    expect(error).toMatchObject({ code: 'render_failed', retryable: false, params: { reason: 'time_limit' } });
    expect(classifyJobEnd(job, error).kind).toBe('failed');
    expect(notifier.failures.map((e) => paramsOf(e, 'render_failed').reason)).toEqual(['time_limit']);
  });

  it('grows with the video: 20 minutes for a minute of video', async () => {
    const { jobTimeLimitMs } = await import('../../src/jobs/video-job.js');
    expect(jobTimeLimitMs(60)).toBe(20 * 60_000);
    expect(jobTimeLimitMs(180)).toBeGreaterThan(jobTimeLimitMs(60));
  });
});
