/**
 * Bot responsiveness: the real grammY bot (long polling through @grammyjs/runner) against the
 * fake Telegram Bot API, with the local queue and video-job processor behind it, while two ffmpeg
 * encodes in child processes keep both cores busy. Time from a `/video` update reaching the fake
 * server to the bot's first reply in that chat, over requests from different users.
 *
 *   node bin/run-ts.mjs bench/bot-latency.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import type { FakeUser } from '../test/fakes/telegram-server.js';
import { startHarness } from '../test/bots/telegram/harness.js';
import { median, percentile, printTable, round } from './table.js';

export interface BotLatencyResult {
  requests: number;
  busyRenders: number;
  medianMs: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** An endless 1080x1920 x264 encode: a render's worth of CPU without its files. */
function startBusyRender(): ChildProcess {
  return spawn(
    'ffmpeg',
    ['-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=1080x1920:r=30', '-c:v', 'libx264', '-preset', 'veryfast', '-f', 'null', '-'],
    { stdio: 'ignore' },
  );
}

export async function benchBotLatency(options: { requests?: number; gapMs?: number } = {}): Promise<BotLatencyResult> {
  const requests = options.requests ?? 50;
  const busy = [startBusyRender(), startBusyRender()];
  const h = await startHarness({ concurrency: 2, limits: { maxWaiting: requests + 10 } });
  // Jobs stay parked after their first stage: the first reply is what is measured, not uploads.
  h.render.hold();
  const latencies: number[] = [];
  try {
    // Let the encoders reach full speed first.
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
    for (const child of busy) child.kill('SIGKILL');
    await h.stop();
  }
  return {
    requests,
    busyRenders: busy.length,
    medianMs: round(median(latencies), 1),
    p90Ms: round(percentile(latencies, 90), 1),
    p99Ms: round(percentile(latencies, 99), 1),
    maxMs: round(Math.max(...latencies), 1),
  };
}

export function printBotLatency(r: BotLatencyResult, write?: (line: string) => void): void {
  printTable(
    `Bot responsiveness: /video to the first reply (grammY + fake Bot API + local queue), ${r.requests} users, ${r.busyRenders} ffmpeg encodes busy`,
    ['median ms', 'p90 ms', 'p99 ms', 'max ms'],
    [[r.medianMs, r.p90Ms, r.p99Ms, r.maxMs]],
    [`p99 target < 300 ms: ${r.p99Ms < 300 ? 'met' : 'NOT met'}`],
    write,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printBotLatency(await benchBotLatency());
}
