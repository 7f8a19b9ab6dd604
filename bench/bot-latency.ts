/**
 * Bot responsiveness: the real grammY bot (long polling through @grammyjs/runner) against the
 * fake Telegram Bot API, with the local queue and video-job processor behind it, while two real
 * segment renders at a time keep both cores busy: FfmpegAssembler in this same process, so the
 * Ken Burns frames are made on the bot's own thread and x264 runs in ffmpeg, as in `reelforge bot`.
 * Time from a `/video` update reaching the fake server to the bot's first reply in that chat, over
 * requests from different users.
 *
 *   node bin/run-ts.mjs bench/bot-latency.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { motionFor } from '../src/pipeline/timeline.js';
import { FfmpegAssembler } from '../src/providers/ffmpeg/assembler.js';
import { runFfmpeg } from '../src/providers/ffmpeg/run-ffmpeg.js';
import type { FakeUser } from '../test/fakes/telegram-server.js';
import { startHarness } from '../test/bots/telegram/harness.js';
import { median, percentile, printTable, round } from './table.js';

export interface BotLatencyResult {
  requests: number;
  busyRenders: number;
  /** Segment renders completed while the requests were timed. */
  rendersDone: number;
  medianMs: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Segment renders (1080x1920, 5 s, x264 veryfast) two at a time through one FfmpegAssembler in
 * this process, one after another until stopped: a worker's load, Ken Burns frames included.
 */
async function startBusyRenders(slots: number): Promise<{ renders: () => number; stop: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'reelforge-bench-busy-'));
  const picture = join(dir, 'picture.jpg');
  await runFfmpeg(['-y', '-f', 'lavfi', '-i', 'testsrc2=s=1024x1536', '-frames:v', '1', picture]);
  const assembler = new FfmpegAssembler({ renderConcurrency: slots });
  const controller = new AbortController();
  let done = 0;
  const loop = async (slot: number): Promise<void> => {
    for (let n = 0; !controller.signal.aborted; n++) {
      await assembler
        .renderSegment(
          {
            index: n, imagePath: picture, durationSec: 5, cues: [{ text: 'Busy rendering', startSec: 0.5, endSec: 4 }],
            motion: motionFor(n), width: 1080, height: 1920, fps: 30, x264Preset: 'veryfast',
            fadeInSec: 0, fadeOutSec: 0, lang: 'en', outPath: join(dir, `busy-${slot}.mp4`),
          },
          controller.signal,
        )
        .then(() => (done += 1), () => undefined);
    }
  };
  const loops = Array.from({ length: slots }, (_, slot) => loop(slot));
  return {
    renders: () => done,
    stop: async () => {
      controller.abort();
      await Promise.all(loops);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function benchBotLatency(options: { requests?: number; gapMs?: number } = {}): Promise<BotLatencyResult> {
  const requests = options.requests ?? 50;
  const busy = await startBusyRenders(2);
  const h = await startHarness({ concurrency: 2, limits: { maxWaiting: requests + 10 } });
  // Jobs stay parked after their first stage: the first reply is what is measured, not uploads.
  h.render.hold();
  const latencies: number[] = [];
  let rendered = 0;
  try {
    // Let the renders reach full speed first.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (let i = 0; i < requests; i++) {
      const user: FakeUser = { id: 50_000 + i, first_name: `User ${i}`, language_code: i % 3 === 0 ? 'ru' : 'en' };
      const chat = h.fake.privateChat(user);
      const sentAt = performance.now();
      h.fake.sendUserMessage(chat, user, `/video 30 The history of tea, part ${i + 1}`);
      await h.fake.waitFor(() => h.fake.botMessages(chat.id)[0], 10_000, `the first reply to request ${i + 1}`);
      latencies.push(performance.now() - sentAt);
      await new Promise((resolve) => setTimeout(resolve, options.gapMs ?? 60));
    }
  } finally {
    rendered = busy.renders();
    await busy.stop();
    await h.stop();
  }
  return {
    requests,
    busyRenders: 2,
    rendersDone: rendered,
    medianMs: round(median(latencies), 1),
    p90Ms: round(percentile(latencies, 90), 1),
    p99Ms: round(percentile(latencies, 99), 1),
    maxMs: round(Math.max(...latencies), 1),
  };
}

export function printBotLatency(r: BotLatencyResult, write?: (line: string) => void): void {
  printTable(
    `Bot responsiveness: /video to the first reply (grammY + fake Bot API + local queue), ${r.requests} users, ` +
      `${r.busyRenders} 1080x1920 segment renders at a time in the same process (${r.rendersDone} done meanwhile)`,
    ['median ms', 'p90 ms', 'p99 ms', 'max ms'],
    [[r.medianMs, r.p90Ms, r.p99Ms, r.maxMs]],
    [`p99 target < 300 ms: ${r.p99Ms < 300 ? 'met' : 'NOT met'}`],
    write,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printBotLatency(await benchBotLatency());
}
