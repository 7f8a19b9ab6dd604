/**
 * Length: finished videos against the asked length, over topics, durations (10-180 s), tiers and
 * both languages, offline (draft script, espeak-ng voice) and online (the fake OpenAI server, whose
 * model writes about the asked words and overshoots a little, as models do). Every video is made by
 * the production runtime with real ffmpeg, at a quarter of the size in each direction (the same
 * timeline, 1/16 of the pixels), and its length is read from the file with ffprobe.
 * Target: every video within 10 % of the asked length.
 *
 *   npm run bench -- --only length [--quick]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { validateVideoRequest } from '../src/core/request.js';
import type { Tier } from '../src/core/tiers.js';
import { createLogger } from '../src/log.js';
import { createRuntime, type Runtime } from '../src/main.js';
import { FfmpegAssembler } from '../src/providers/ffmpeg/assembler.js';
import { probe } from '../src/providers/ffmpeg/probe.js';
import { FakeOpenAiServer } from '../test/fakes/openai-server.js';
import { printTable, round } from './table.js';
import { smallAssembler } from './small-assembler.js';

const TOPICS: Record<'en' | 'ru', string[]> = {
  en: ['The fall of Constantinople', 'How honeybees make honey', 'The first flight of the Wright brothers', 'Why the sky is blue', 'The history of tea'],
  ru: ['Падение Константинополя', 'Как пчёлы делают мёд', 'Полёт Гагарина', 'Почему небо голубое', 'История чая'],
};

const DURATIONS = [10, 15, 20, 30, 45, 60, 90, 120, 180];
const QUICK_DURATIONS = [10, 30, 60];
/** Besides the tier the length picks, every tier is asked for on a rotation of durations. */
const TIERS: Array<Tier | undefined> = [undefined, 'ultra_fast', 'balanced', 'quality'];

export interface LengthRun {
  mode: 'offline' | 'online';
  lang: 'en' | 'ru';
  tier: string;
  topic: string;
  askedSec: number;
  gotSec: number;
  errorPct: number;
}

export interface LengthBench {
  runs: LengthRun[];
  worstPct: number;
  /** Runs outside ±10 %. */
  outside: number;
  met: boolean;
}

export interface LengthOptions {
  quick?: boolean;
  log?: (line: string) => void;
  modes?: Array<'offline' | 'online'>;
  langs?: Array<'en' | 'ru'>;
  durations?: number[];
}

export async function benchLength(options: LengthOptions = {}): Promise<LengthBench> {
  const log = options.log ?? (() => {});
  const all = options.quick ? QUICK_DURATIONS : DURATIONS;
  const durations = options.durations ?? all;
  const modes = options.modes ?? ['offline', 'online'];
  const fake = await FakeOpenAiServer.start({ imageScale: 0.25 });
  const dataDir = await mkdtemp(join(tmpdir(), 'reelforge-bench-length-'));
  const runs: LengthRun[] = [];
  try {
    const assembler = smallAssembler(new FfmpegAssembler({ renderConcurrency: 2 }), { x264Preset: 'ultrafast' });
    const runtimes: Record<'offline' | 'online', Runtime> = {
      offline: createRuntime(loadConfig({ DATA_DIR: join(dataDir, 'offline'), LOG_LEVEL: 'silent' }), createLogger('silent'), { assembler }),
      online: createRuntime(
        loadConfig({ OPENAI_BASE_URL: fake.baseURL, OPENAI_API_KEY: 'bench', DATA_DIR: join(dataDir, 'online'), LOG_LEVEL: 'silent' }),
        createLogger('silent'),
        { assembler },
      ),
    };
    let n = 0;
    for (const mode of modes) {
      for (const lang of options.langs ?? (['en', 'ru'] as const)) {
        for (const askedSec of durations) {
          const i = Math.max(0, all.indexOf(askedSec));
          // A topic per duration and a tier per run, rotated so every topic and tier is asked at several lengths.
          const topic = TOPICS[lang][(i + (lang === 'ru' ? 2 : 0)) % TOPICS[lang].length]!;
          const tier = TIERS[n % TIERS.length];
          n++;
          const request = validateVideoRequest({ duration: askedSec, topic, ...(tier ? { tier } : {}) });
          const out = join(dataDir, `${mode}-${lang}-${askedSec}.mp4`);
          const { receipt } = await runtimes[mode].render(request, { outPath: out });
          const gotSec = (await probe(out)).durationSec;
          await rm(out, { force: true });
          const errorPct = round(((gotSec - askedSec) / askedSec) * 100, 1);
          runs.push({ mode, lang, tier: tier ?? `${receipt.tier} (auto)`, topic, askedSec, gotSec: round(gotSec, 2), errorPct });
          log(`length: ${mode} ${lang} ${askedSec} s -> ${round(gotSec, 2)} s (${errorPct > 0 ? '+' : ''}${errorPct} %)`);
        }
      }
    }
  } finally {
    await fake.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  const worstPct = runs.reduce((w, r) => (Math.abs(r.errorPct) > Math.abs(w) ? r.errorPct : w), 0);
  const outside = runs.filter((r) => Math.abs(r.errorPct) > 10).length;
  return { runs, worstPct, outside, met: outside === 0 };
}

export function printLength(result: LengthBench, write: (line: string) => void): void {
  printTable(
    'Video length: asked vs got (ffprobe of the finished file)',
    ['mode', 'lang', 'tier', 'topic', 'asked s', 'got s', 'error %'],
    result.runs.map((r) => [r.mode, r.lang, r.tier, r.topic, r.askedSec, r.gotSec, `${r.errorPct > 0 ? '+' : ''}${r.errorPct}`]),
    [`Worst: ${result.worstPct > 0 ? '+' : ''}${result.worstPct} %; outside ±10 %: ${result.outside} of ${result.runs.length}. Target: every video within 10 %.`],
    write,
  );
}
