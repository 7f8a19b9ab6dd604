/**
 * Re-rolling one scene against rendering the whole video: a 60 s storyboard (fake OpenAI server,
 * real ffmpeg, the production runtime with its caches) is rendered once, then one scene gets another
 * take of its picture and the storyboard is rendered again. Wall time and paid calls of each.
 * Target: the re-roll takes at most a fifth of the full render's time and makes exactly one image call.
 *
 *   node bin/run-ts.mjs bench/reroll.ts [--quick]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../src/config.js';
import type { Receipt } from '../src/core/receipt.js';
import { validateVideoRequest } from '../src/core/request.js';
import { createLogger } from '../src/log.js';
import { createRuntime } from '../src/main.js';
import { storyboardRequest, storyboardScript, writeStoryboard, type Storyboard } from '../src/pipeline/storyboard.js';
import { FakeOpenAiServer } from '../test/fakes/openai-server.js';
import { printTable, round } from './table.js';

export interface RerollRun {
  what: string;
  wallSec: number;
  imageCalls: number;
  speechCalls: number;
  chatCalls: number;
  segmentsEncoded: number;
  segments: number;
  costUsd: number;
}

export interface RerollResult {
  videoSec: number;
  full: RerollRun;
  reroll: RerollRun;
  /** reroll wall time / full wall time. */
  timeRatio: number;
  met: boolean;
}

export async function benchReroll(options: { durationSec?: number } = {}): Promise<RerollResult> {
  const durationSec = options.durationSec ?? 60;
  const fake = await FakeOpenAiServer.start();
  const dataDir = await mkdtemp(join(tmpdir(), 'reelforge-bench-reroll-'));
  try {
    const config = loadConfig({ OPENAI_BASE_URL: fake.baseURL, OPENAI_API_KEY: 'bench', DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    const runtime = createRuntime(config, createLogger('silent'));
    const { storyboard } = await writeStoryboard(runtime.deps.writer, validateVideoRequest({ duration: durationSec, topic: 'The fall of Constantinople' }));

    const measure = async (what: string, board: Storyboard): Promise<RerollRun & { receipt: Receipt }> => {
      const from = fake.requests.length;
      const t0 = performance.now();
      const { receipt } = await runtime.render(storyboardRequest(board), { script: storyboardScript(board), outPath: join(dataDir, `${what}.mp4`) });
      const wallSec = (performance.now() - t0) / 1000;
      const paid = fake.requests.slice(from);
      return {
        what,
        wallSec: round(wallSec, 2),
        imageCalls: paid.filter((r) => r.path === '/v1/images/generations').length,
        speechCalls: paid.filter((r) => r.path === '/v1/audio/speech').length,
        chatCalls: paid.filter((r) => r.path === '/v1/chat/completions').length,
        segmentsEncoded: receipt.encodes?.made ?? receipt.segments,
        segments: receipt.segments,
        costUsd: receipt.costUsd,
        receipt,
      };
    };

    const { receipt: _full, ...full } = await measure('full', storyboard);
    // The middle scene gets another take of its picture: what the chat's "Re-roll a scene" does.
    const scene = Math.floor(storyboard.segments.length / 2);
    const rerolled: Storyboard = {
      ...storyboard,
      segments: storyboard.segments.map((s, i) => (i === scene ? { ...s, take: (s.take ?? 0) + 1 } : s)),
    };
    const { receipt: _reroll, ...reroll } = await measure('reroll', rerolled);
    const timeRatio = round(reroll.wallSec / full.wallSec, 3);
    return { videoSec: durationSec, full, reroll, timeRatio, met: timeRatio <= 0.2 && reroll.imageCalls === 1 };
  } finally {
    await fake.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export function printReroll(result: RerollResult, write: (line: string) => void): void {
  printTable(
    `Re-roll one scene of a ${result.videoSec} s video vs the full render (fake OpenAI server, real ffmpeg, 1080x1920)`,
    ['render', 'wall s', 'image calls', 'speech calls', 'LLM calls', 'segments encoded', 'cost $'],
    [result.full, result.reroll].map((r) => [r.what, r.wallSec, r.imageCalls, r.speechCalls, r.chatCalls, `${r.segmentsEncoded}/${r.segments}`, r.costUsd]),
    [`re-roll / full: ${(result.timeRatio * 100).toFixed(1)} % of the time (target <= 20 %, exactly 1 image call): ${result.met ? 'met' : 'NOT met'}`],
    write,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  printReroll(await benchReroll(quick ? { durationSec: 20 } : {}), (line) => console.log(line));
}
