/**
 * Token bench: whole videos through the production pipeline against the fake OpenAI server, whose usage is counted with a real tokenizer (o200k). Compared with the seed
 * design's measured baseline: ~13,500 tokens and 5 LLM calls for a 60 s video (scaled linearly).
 *
 *   node bin/run-ts.mjs bench/tokens.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../src/config.js';
import { validateVideoRequest } from '../src/core/request.js';
import { TIER_PROFILES, type Tier } from '../src/core/tiers.js';
import { createLogger } from '../src/log.js';
import { createPipelineDeps } from '../src/main.js';
import { runPipeline } from '../src/pipeline/run-pipeline.js';
import { MemoryAssembler, MemoryMusic } from '../src/providers/memory/index.js';
import { FakeOpenAiServer } from '../test/fakes/openai-server.js';

export interface Row {
  tier: Tier;
  durationSec: number;
  topic: string;
  bible: boolean;
  llmCalls: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  imagesGenerated: number;
  imagesReused: number;
  baselineTokens: number;
  baselineCalls: number;
  /** totalTokens / baselineTokens. */
  ratio: number;
}

const TOPICS = ['The fall of Constantinople', 'How honeybees make honey', 'Пётр I и основание Петербурга'];
const DURATIONS = [30, 60, 120];
const BASELINE_TOKENS_PER_60S = 13_500;
const BASELINE_CALLS = 5;

/**
 * One video through the production path: the composition root's providers for an OpenAI-compatible
 * server (writer, local checks, fixer, caches, pricing) and the real pipeline; only the assembler and
 * the music are in-memory, since tokens do not depend on them. A fresh DATA_DIR per run keeps the
 * LLM cache from replaying an earlier answer.
 */
async function runOne(fake: FakeOpenAiServer, topic: string, durationSec: number, wantBible: boolean): Promise<Row> {
  const dataDir = await mkdtemp(join(tmpdir(), 'reelforge-bench-tokens-'));
  try {
    const config = loadConfig({ OPENAI_BASE_URL: fake.baseURL, OPENAI_API_KEY: 'bench', DATA_DIR: dataDir });
    const deps = createPipelineDeps(config, createLogger('silent'), { assembler: new MemoryAssembler(), music: new MemoryMusic() });
    const workDir = await mkdtemp(join(dataDir, 'work-'));
    const request = validateVideoRequest({ topic, duration: durationSec });
    const receipt = await runPipeline({ request, workDir, outPath: join(dataDir, 'out.json'), wantBible }, deps);
    const tier = receipt.tier;
    const baselineTokens = Math.round((BASELINE_TOKENS_PER_60S * durationSec) / 60);
    return {
      tier,
      durationSec,
      topic,
      bible: wantBible || TIER_PROFILES[tier].visualBible === 'on',
      llmCalls: receipt.llm.calls,
      promptTokens: receipt.llm.promptTokens,
      completionTokens: receipt.llm.completionTokens,
      totalTokens: receipt.llm.totalTokens,
      imagesGenerated: receipt.images.generated,
      imagesReused: receipt.images.reused,
      baselineTokens,
      baselineCalls: BASELINE_CALLS,
      ratio: receipt.llm.totalTokens / baselineTokens,
    };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function benchTokens(): Promise<Row[]> {
  const fake = await FakeOpenAiServer.start();
  const rows: Row[] = [];
  try {
    for (const durationSec of DURATIONS) {
      for (const topic of TOPICS) rows.push(await runOne(fake, topic, durationSec, false));
    }
    // balanced with the visual bible it makes on request
    rows.push(await runOne(fake, TOPICS[0]!, 60, true));
  } finally {
    await fake.close();
  }
  printRows(rows);
  return rows;
}

function printRows(rows: Row[]): void {
  const header = ['tier', 'sec', 'topic', 'bible', 'calls', 'prompt', 'compl.', 'total', 'img new', 'img reused', 'baseline', 'ratio'];
  const lines = rows.map((r) => [
    r.tier,
    String(r.durationSec),
    r.topic.slice(0, 28),
    r.bible ? 'yes' : 'no',
    `${r.llmCalls}/${r.baselineCalls}`,
    String(r.promptTokens),
    String(r.completionTokens),
    String(r.totalTokens),
    String(r.imagesGenerated),
    String(r.imagesReused),
    String(r.baselineTokens),
    `${(r.ratio * 100).toFixed(0)}%`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log('LLM tokens per video (fake OpenAI server, o200k token counts; baseline = seed design, 5 calls, 13,500 tokens / 60 s)');
  console.log(format(header));
  for (const line of lines) console.log(format(line));
  const balanced = rows.filter((r) => r.tier === 'balanced' && r.durationSec === 60 && !r.bible);
  const worst = Math.max(...balanced.map((r) => r.totalTokens));
  const calls = Math.max(...balanced.map((r) => r.llmCalls));
  const ok = worst <= 2_500 && calls <= 2;
  console.log(`balanced 60 s: at most ${worst} tokens and ${calls} LLM calls (target <= 2,500 and <= 2): ${ok ? 'met' : 'NOT met'}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchTokens();
}
