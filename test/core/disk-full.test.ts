/**
 * A full disk (ENOSPC) for a few seconds is not a bad request nor a bug: the job is retried with
 * the queue's backoff instead of failing as "internal". Real ENOSPC from /dev/full, from Node and
 * from ffmpeg.
 */
import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { toReelforgeError } from '../../src/core/errors.js';
import { createVideoJobProcessor, notifierRegistry } from '../../src/jobs/video-job.js';
import { classifyJobEnd } from '../../src/queue/job-end.js';
import { runTool } from '../../src/providers/ffmpeg/run-ffmpeg.js';
import { caught } from '../helpers/errors.js';

describe('a full disk', () => {
  it('a failed write (ENOSPC) is a retryable error, and a job that is not on its last attempt ends "retry"', async () => {
    const thrown = await writeFile('/dev/full', 'x').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((thrown as { code?: string }).code).toBe('ENOSPC');
    const error = toReelforgeError(thrown);
    expect(error.retryable).toBe(true);
    const signal = new AbortController().signal;
    expect(classifyJobEnd({ signal, lastAttempt: false }, thrown).kind).toBe('retry');

    // Through the job: the render's write fails, the job throws a retryable error and tells no one yet.
    const failures: unknown[] = [];
    const processor = createVideoJobProcessor({
      render: async () => {
        await writeFile('/dev/full', 'segment bytes');
        throw new Error('unreachable');
      },
      notifiers: notifierRegistry([
        {
          platform: 'telegram',
          uploadLimitBytes: () => 50 << 20,
          progress: () => Promise.resolve(),
          deliver: () => Promise.resolve(),
          fail: (_t, e) => {
            failures.push(e);
            return Promise.resolve();
          },
        },
      ]),
    });
    const ended = await caught(
      processor({
        id: 'j1',
        attempt: 1,
        lastAttempt: false,
        signal,
        progress: () => undefined,
        data: {
          request: { topic: 'Tea', durationSec: 10, lang: 'en', aspect: '9:16' },
          owner: { platform: 'telegram', userId: '1' },
          target: { platform: 'telegram', chatId: 1, locale: 'en' },
          createdAt: 0,
        },
      }),
    );
    expect(toReelforgeError(ended).retryable).toBe(true);
    expect(failures).toEqual([]);
  });

  it('ffmpeg saying "No space left on device" is retryable too, not a failed render', async () => {
    const thrown = await caught(runTool('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '2', '-f', 'mp4', '-y', '/dev/full']));
    const error = toReelforgeError(thrown);
    expect(error.retryable).toBe(true);
    expect(error.code).not.toBe('render_failed');
  });

  it('ffmpeg that exits 0 after failing to write its trailer (a WAV cut short) fails as a full disk, not as success', async () => {
    // ffmpeg 5.1 exits 0 here, with "Error writing trailer ...: No space left on device" on stderr.
    const thrown = await caught(runTool('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=d=1', '-f', 'wav', '-y', '/dev/full']));
    const error = toReelforgeError(thrown);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/disk was full/);
  });
});
