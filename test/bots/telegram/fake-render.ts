/**
 * A stand-in for the pipeline in bot tests: emits the progress events a real render emits, in the
 * same order, and makes a real small MP4 (and JPEG thumbnail) with ffmpeg so uploads can be probed.
 * `hold()` keeps renders waiting after the script stage (to press Cancel, or fill the queue).
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cancelled } from '../../../src/core/errors.js';
import { sleep } from '../../../src/core/sleep.js';
import type { Receipt } from '../../../src/core/receipt.js';
import { tierForDuration } from '../../../src/core/tiers.js';
import type { RenderVideo } from '../../../src/jobs/video-job.js';

const run = promisify(execFile);

export interface FakeRender {
  render: RenderVideo;
  /** Job ids whose render began. */
  started: string[];
  hold(): void;
  release(): void;
}

export function createFakeRender(dir: string, options: { stepMs?: number; segments?: number } = {}): FakeRender {
  const stepMs = options.stepMs ?? 120;
  const segments = options.segments ?? 4;
  const made = new Map<number, Promise<{ path: string; thumbnailPath: string }>>();
  let gate: { promise: Promise<void>; open: () => void } | undefined;
  const started: string[] = [];

  // One MP4 per duration: the bytes are what matter, and CPU is shared with colleagues.
  const makeVideo = (durationSec: number): Promise<{ path: string; thumbnailPath: string }> => {
    let result = made.get(durationSec);
    if (!result) {
      const path = join(dir, `fake-${durationSec}s.mp4`);
      const thumbnailPath = join(dir, `fake-${durationSec}s.jpg`);
      result = (async () => {
        await run('ffmpeg', [
          '-y', '-v', 'error',
          '-f', 'lavfi', '-i', 'testsrc2=size=270x480:rate=30',
          '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
          '-t', String(durationSec),
          '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
          '-c:a', 'aac', '-b:a', '64k', '-movflags', '+faststart', path,
        ]);
        await run('ffmpeg', ['-y', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=180x320', '-frames:v', '1', '-update', '1', thumbnailPath]);
        return { path, thumbnailPath };
      })();
      made.set(durationSec, result);
    }
    return result;
  };

  const render: RenderVideo = async (data, { jobId, signal, onProgress }) => {
    started.push(jobId);
    const tier = data.request.tier ?? tierForDuration(data.request.durationSec);
    onProgress({ type: 'started', offline: true, tier, segments });
    onProgress({ type: 'stage', stage: 'script', status: 'running' });
    await sleep(stepMs, signal);
    onProgress({ type: 'title', title: data.request.topic });
    if (gate) {
      const wait = gate.promise;
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => reject(cancelled());
        signal.addEventListener('abort', onAbort, { once: true });
        void wait.then(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    onProgress({ type: 'stage', stage: 'script', status: 'done' });
    onProgress({ type: 'stage', stage: 'images', status: 'running' });
    onProgress({ type: 'stage', stage: 'voice', status: 'running' });
    for (let i = 1; i <= segments; i++) {
      await sleep(stepMs, signal);
      onProgress({ type: 'count', stage: 'images', done: i, total: segments });
    }
    onProgress({ type: 'stage', stage: 'images', status: 'done' });
    onProgress({ type: 'stage', stage: 'voice', status: 'done' });
    onProgress({ type: 'stage', stage: 'music', status: 'done' });
    onProgress({ type: 'stage', stage: 'render', status: 'running' });
    const { path, thumbnailPath } = await makeVideo(data.request.durationSec);
    if (signal.aborted) throw cancelled();
    onProgress({ type: 'stage', stage: 'render', status: 'done' });
    const size = (await stat(path)).size;
    const receipt: Receipt = {
      output: path,
      title: data.request.topic,
      durationSec: data.request.durationSec,
      width: 270,
      height: 480,
      sizeBytes: size,
      tier,
      segments,
      offline: true,
      lang: data.request.lang,
      llm: { calls: 1, promptTokens: 900, completionTokens: 334, totalTokens: 1234 },
      images: { generated: segments, reused: 0 },
      ttsCharacters: 200,
      costUsd: 0,
      timingsMs: {},
    };
    return { path, thumbnailPath, receipt };
  };

  return {
    render,
    started,
    hold: () => {
      if (gate) return;
      let open = (): void => undefined;
      const promise = new Promise<void>((resolve) => {
        open = resolve;
      });
      gate = { promise, open };
    },
    release: () => {
      gate?.open();
      gate = undefined;
    },
  };
}
