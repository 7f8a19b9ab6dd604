/**
 * Every benchmark in one run: `npm run bench` prints a table per benchmark; `--json` prints all
 * figures as one JSON object on stdout (tables go to stderr); `--only render,critical` picks some;
 * `--quick` shrinks the sizes for a CI-like run (the README reports the full run).
 *
 *   npm run bench [-- --quick] [-- --json] [-- --only render,critical,bot,throughput,tokens,queue,reroll,captions]
 *
 * The fault soak runs only when named (it takes minutes and is not for CI):
 *   npm run bench -- --only soak [--jobs 220] [--fault-rate 0.12] [--seed soak] [--minutes 6]
 * So does the length bench (dozens of renders, offline and through the fake OpenAI server):
 *   npm run bench -- --only length [--quick]
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { benchBotLatency, printBotLatency } from './bot-latency.js';
import { benchCaptions, printCaptions } from './captions.js';
import { benchLength, printLength } from './length.js';
import { benchCriticalPath, printCriticalPath } from './critical-path.js';
import { benchQueue } from './queue.js';
import { benchRender, printRender } from './render.js';
import { benchReroll, printReroll } from './reroll.js';
import { benchSoak, printSoak, type SoakOptions } from './soak.js';
import { printTable, round } from './table.js';
import { benchThroughput, printThroughput } from './throughput.js';
import { benchTokens } from './tokens.js';

const NAMES = ['render', 'critical', 'bot', 'throughput', 'tokens', 'queue', 'reroll', 'captions'] as const;
/** Benchmarks that run only when named with --only. */
const ON_REQUEST = ['soak', 'length'] as const;
type Name = (typeof NAMES)[number] | (typeof ON_REQUEST)[number];
const ALL: readonly string[] = [...NAMES, ...ON_REQUEST];

interface Args {
  json: boolean;
  quick: boolean;
  only: Name[];
  soak: SoakOptions;
}

/** `--name value` or `--name=value`, as a number. */
function numberFlag(argv: string[], i: number, name: string): { value: number; next: number } {
  const arg = argv[i]!;
  const raw = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[i + 1];
  const value = Number(raw);
  if (raw === undefined || raw === '' || !Number.isFinite(value) || value < 0) throw new Error(`${name} needs a number, not "${raw ?? ''}"`);
  return { value, next: arg.includes('=') ? i : i + 1 };
}

function parseArgs(argv: string[]): Args {
  const args: Args = { json: false, quick: false, only: [...NAMES], soak: {} };
  const soakFlags: Record<string, keyof SoakOptions> = {
    '--jobs': 'jobs',
    '--fault-rate': 'faultRate',
    '--minutes': 'minutes',
    '--deadline': 'deadlineSec',
    '--proc-share': 'procShare',
    '--ffmpeg-share': 'ffmpegShare',
    '--max-minutes': 'maxMinutes',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const flag = arg.split('=')[0]!;
    if (flag in soakFlags) {
      const { value, next } = numberFlag(argv, i, flag);
      (args.soak as Record<string, number>)[soakFlags[flag]!] = value;
      i = next;
    } else if (flag === '--seed') {
      const value = arg.includes('=') ? arg.slice('--seed='.length) : argv[++i];
      if (!value) throw new Error('--seed needs a value');
      args.soak.seed = value;
    } else if (flag === '--log-dir') {
      const value = arg.includes('=') ? arg.slice('--log-dir='.length) : argv[++i];
      if (!value) throw new Error('--log-dir needs a value');
      args.soak.logDir = value;
    } else if (arg === '--json') args.json = true;
    else if (arg === '--quick') args.quick = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg.includes('=') ? arg.slice('--only='.length) : (argv[++i] ?? '');
      const picked = value.split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = picked.filter((p) => !ALL.includes(p));
      if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(', ')}; choose from ${ALL.join(', ')}`);
      args.only = picked as Name[];
    } else {
      throw new Error(`unknown option ${arg}; use --json, --quick, --only ${ALL.join(',')} (soak: ${Object.keys(soakFlags).join(' ')} --seed --log-dir)`);
    }
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // With --json, stdout carries only the JSON object; every table goes to stderr.
  const out = args.json ? process.stderr : process.stdout;
  const write = (line: string): void => void out.write(`${line}\n`);
  const progress = (line: string): void => void process.stderr.write(`${line}\n`);
  const figures: Record<string, unknown> = {
    machine: { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.version, loadAvgAtStart: loadavg().map((v) => round(v, 2)) },
    mode: args.quick ? 'quick' : 'full',
  };
  const started = performance.now();
  const timings: Record<string, number> = {};
  for (const name of args.only) {
    const t0 = performance.now();
    progress(`bench: ${name}...`);
    switch (name) {
      case 'render': {
        const result = await benchRender({ quick: args.quick, log: progress });
        printRender(result, write);
        figures.render = result;
        break;
      }
      case 'critical': {
        const result = await benchCriticalPath(args.quick ? { durationSec: 30 } : {});
        printCriticalPath(result, write);
        figures.criticalPath = result;
        break;
      }
      case 'bot': {
        const result = await benchBotLatency(args.quick ? { requests: 20 } : {});
        printBotLatency(result, write);
        figures.botLatency = result;
        break;
      }
      case 'throughput': {
        const result = await benchThroughput(args.quick ? { jobs: 2, durationSec: 12 } : {});
        printThroughput(result, write);
        figures.throughput = result;
        break;
      }
      case 'tokens': {
        // benchTokens prints its own table with console.log: keep it off stdout under --json.
        const log = console.log;
        if (args.json) console.log = (...parts: unknown[]) => write(parts.map(String).join(' '));
        try {
          write('');
          figures.tokens = await benchTokens();
        } finally {
          console.log = log;
        }
        break;
      }
      case 'reroll': {
        const result = await benchReroll(args.quick ? { durationSec: 20 } : {});
        printReroll(result, write);
        figures.reroll = result;
        break;
      }
      case 'queue': {
        const result = await benchQueue(args.quick ? { jobs: 200, recoveryTrials: 1 } : {});
        printTable(
          'Queue throughput (no-op jobs, 50 waiting, distinct users) and BullMQ recovery after SIGKILL',
          ['queue', 'jobs/s', 'jobs', 'concurrency', 'seconds'],
          [
            ['local (journal, fsync)', result.local.jobsPerSec, result.local.jobs, result.local.concurrency, result.local.seconds],
            ['BullMQ (redis-server)', result.bullmq.jobsPerSec, result.bullmq.jobs, result.bullmq.concurrency, result.bullmq.seconds],
          ],
          [`BullMQ recovery after SIGKILL of the worker: ${result.bullmqRecoverySec.map((s) => `${s} s`).join(', ')}`],
          write,
        );
        figures.queue = result;
        break;
      }
      case 'soak': {
        const result = await benchSoak({ ...(args.quick ? { jobs: 40, minutes: 2 } : {}), ...args.soak, log: progress });
        printSoak(result, write);
        figures.soak = result;
        break;
      }
      case 'length': {
        const result = await benchLength({ quick: args.quick, log: progress });
        printLength(result, write);
        figures.length = result;
        break;
      }
      case 'captions': {
        const result = await benchCaptions({ quick: args.quick, log: progress });
        printCaptions(result, write);
        figures.captions = result;
        break;
      }
    }
    timings[name] = round((performance.now() - t0) / 1000, 1);
  }
  figures.benchSeconds = { ...timings, total: round((performance.now() - started) / 1000, 1) };
  write('');
  write(`bench took ${round((performance.now() - started) / 1000, 1)} s (${Object.entries(timings).map(([k, v]) => `${k} ${v} s`).join(', ')})`);
  if (args.json) process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
}

await main();
