/**
 * Token bench: the script writer (+ the prompt fixer when local checks flag segments) against the
 * fake OpenAI server, whose usage is counted with a real tokenizer (o200k). Compared with the seed
 * design's measured baseline: ~13,500 tokens and 5 LLM calls for a 60 s video (scaled linearly).
 *
 *   node bin/run-ts.mjs bench/tokens.ts
 */
import { pathToFileURL } from 'node:url';
import { addUsage, type LlmUsage } from '../src/core/receipt.js';
import { TIER_PROFILES, tierForDuration, type Tier } from '../src/core/tiers.js';
import { planPromptFixes } from '../src/pipeline/dedup.js';
import type { ScriptMeta, Segment } from '../src/pipeline/model.js';
import { createOpenAiClient } from '../src/providers/openai/client.js';
import { OpenAiLlm } from '../src/providers/openai/llm.js';
import { OpenAiPromptFixer } from '../src/providers/openai/prompt-fixer.js';
import { OpenAiScriptWriter } from '../src/providers/openai/script-writer.js';
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
/** The design's ~12 segments a minute. */
const segmentsFor = (durationSec: number): number => Math.max(3, Math.round(durationSec / 5));

async function runOne(fake: FakeOpenAiServer, topic: string, durationSec: number, wantBible: boolean): Promise<Row> {
  const tier = tierForDuration(durationSec);
  const profile = TIER_PROFILES[tier];
  const llm = new OpenAiLlm(createOpenAiClient({ apiKey: 'bench', baseURL: fake.baseURL }), { model: 'gpt-4o-mini' });
  const writer = new OpenAiScriptWriter(llm);
  const fixer = new OpenAiPromptFixer(llm);
  let usage: LlmUsage = { calls: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0 };
  let meta: ScriptMeta | undefined;
  const segments: Segment[] = [];
  const lang = /[\u0400-\u04ff]/.test(topic) ? 'ru' : 'en';
  const input = { topic, durationSec, lang, profile, wantBible, targetSegments: segmentsFor(durationSec) };
  for await (const event of writer.write(input)) {
    if (event.type === 'meta') meta = event.meta;
    else if (event.type === 'segment') segments.push(event.segment);
    else usage = addUsage(usage, event.usage);
  }
  const plan = planPromptFixes(segments, profile, { ...(meta?.context ? { context: meta.context } : {}), ...(meta?.bible ? { bible: meta.bible } : {}) });
  if (Object.keys(plan.reasons).length > 0) {
    const fixed = await fixer.rewrite({ segments, reasons: plan.reasons, ...(meta?.context ? { context: meta.context } : {}), lang });
    usage = addUsage(usage, fixed.usage);
  }
  const reused = Object.keys(plan.reuse).length;
  const baselineTokens = Math.round((BASELINE_TOKENS_PER_60S * durationSec) / 60);
  return {
    tier,
    durationSec,
    topic,
    bible: wantBible || profile.visualBible === 'on',
    llmCalls: usage.calls,
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    totalTokens: usage.totalTokens,
    imagesGenerated: segments.length - reused,
    imagesReused: reused,
    baselineTokens,
    baselineCalls: BASELINE_CALLS,
    ratio: usage.totalTokens / baselineTokens,
  };
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
