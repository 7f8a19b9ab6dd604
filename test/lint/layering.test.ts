/**
 * The layering rule in eslint.config.js, proved by planting imports: files laid out like the repo's
 * are written to a temporary folder and linted with the real config (type-aware rules off, so one
 * file lints in milliseconds; the import rule needs no types).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const configFile = resolve(import.meta.dirname, '../../eslint.config.js');
let root: string;
let eslint: ESLint;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'reelforge-lint-'));
  eslint = new ESLint({
    cwd: root,
    overrideConfigFile: configFile,
    overrideConfig: [tseslint.configs.disableTypeChecked, { languageOptions: { parserOptions: { projectService: false } } }],
  });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let probes = 0;

/** Writes `imports` into a new file under `folder` and returns the modules lint refused. */
async function refused(folder: string, imports: string[]): Promise<string[]> {
  const file = join(root, folder, `probe-${++probes}.ts`);
  await mkdir(dirname(file), { recursive: true });
  const body = imports.map((from, i) => `import type * as m${i} from '${from}';\nexport type T${i} = typeof m${i};`).join('\n');
  await writeFile(file, `${body}\n`);
  const [result] = await eslint.lintFiles([file]);
  if (!result) throw new Error(`eslint returned nothing for ${file}`);
  const other = result.messages.filter((m) => m.ruleId !== 'no-restricted-imports');
  expect(other, 'only the layering rule may speak').toEqual([]);
  return result.messages.map((m) => imports.find((from) => m.message.includes(`'${from}'`)) ?? m.message);
}

const SDKS = ['grammy', 'grammy/types', '@grammyjs/runner', 'discord.js', '@discordjs/rest', 'openai', 'openai/resources/images', 'bullmq', 'ioredis', '@napi-rs/canvas'];

describe('eslint layering', () => {
  it('refuses every SDK outside its folder', async () => {
    expect(await refused('src/jobs', SDKS)).toEqual(SDKS);
    expect(await refused('src', SDKS)).toEqual(SDKS);
    expect(await refused('src/store', SDKS)).toEqual(SDKS);
  });

  it('lets each SDK into its own folder and no other SDK', async () => {
    const homes: Array<[string, string[]]> = [
      ['src/bots/telegram', ['grammy', 'grammy/types', '@grammyjs/runner']],
      ['src/bots/discord', ['discord.js', '@discordjs/rest']],
      ['src/providers/openai', ['openai', 'openai/resources/images']],
      ['src/queue', ['bullmq']],
      ['src/redis', ['ioredis']],
      ['src/providers/offline', ['@napi-rs/canvas']],
    ];
    for (const [folder, own] of homes) {
      expect(await refused(folder, own), folder).toEqual([]);
      const others = SDKS.filter((sdk) => !own.includes(sdk));
      expect(await refused(`${folder}/nested`, others), folder).toEqual(others);
    }
  });

  it('keeps the pipeline and core free of SDKs, bots, queues, jobs, redis, providers and config', async () => {
    const layers = ['../bots/telegram/bot.js', '../queue/types.js', '../jobs/video-job.js', '../redis/connection.js', '../providers/limit.js', '../store/settings.js', '../config.js'];
    for (const folder of ['src/pipeline', 'src/core']) {
      expect(await refused(folder, [...SDKS, ...layers]), folder).toEqual([...SDKS, ...layers]);
    }
    expect(await refused('src/pipeline', ['../../src/providers/ffmpeg/assembler.js'])).toEqual(['../../src/providers/ffmpeg/assembler.js']);
  });

  it('passes a clean file', async () => {
    expect(await refused('src/pipeline', ['../core/errors.js', './ports.js', 'node:fs/promises', 'zod', 'p-queue'])).toEqual([]);
    expect(await refused('src/jobs', ['../core/errors.js', '../queue/types.js', '../pipeline/ports.js'])).toEqual([]);
    // A local folder named after an SDK is not the SDK: the composition root imports them all.
    expect(await refused('src', ['./providers/openai/index.js', './bots/discord/bot.js', './queue/bullmq-queue.js', './redis/connection.js'])).toEqual([]);
  });
});
