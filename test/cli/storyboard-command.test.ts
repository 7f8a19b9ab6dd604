/**
 * `reelforge storyboard` and `reelforge render` as a user runs them: against the fake OpenAI server
 * (which records every request) and real ffmpeg. A storyboard costs only the script call; an edited
 * one re-makes only what the edit made stale.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Receipt } from '../../src/core/receipt.js';
import type { Storyboard } from '../../src/pipeline/storyboard.js';
import { FakeOpenAiServer } from '../fakes/openai-server.js';
import { runReelforge } from '../helpers/reelforge-process.js';

const KEY = 'sk-test-storyboard-123456';
let fake: FakeOpenAiServer;
let dataDir: string;

beforeAll(async () => {
  fake = await FakeOpenAiServer.start({ apiKey: KEY, imageScale: 0.25 });
  dataDir = await mkdtemp(join(tmpdir(), 'reelforge-storyboard-'));
});
afterAll(async () => {
  await fake.close();
  await rm(dataDir, { recursive: true, force: true });
});

function reelforge(args: string[], env: Record<string, string> = { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: fake.baseURL }): ReturnType<typeof runReelforge> {
  return runReelforge(args, { DATA_DIR: dataDir, ...env });
}

/** Requests the fake server saw since `from`, by endpoint. */
function paidSince(from: number): { chat: number; images: number; speech: number } {
  const since = fake.requests.slice(from);
  return {
    chat: since.filter((r) => r.path === '/v1/chat/completions').length,
    images: since.filter((r) => r.path === '/v1/images/generations').length,
    speech: since.filter((r) => r.path === '/v1/audio/speech').length,
  };
}

async function render(file: string): Promise<{ receipt: Receipt; paid: ReturnType<typeof paidSince> }> {
  const from = fake.requests.length;
  const result = await reelforge(['render', file, '--json']);
  expect(result.code, result.stderr).toBe(0);
  return { receipt: JSON.parse(result.stdout) as Receipt, paid: paidSince(from) };
}

async function edit(file: string, change: (storyboard: Storyboard) => void): Promise<void> {
  const storyboard = JSON.parse(await readFile(file, 'utf8')) as Storyboard;
  change(storyboard);
  await writeFile(file, JSON.stringify(storyboard, null, 2));
}

describe('reelforge storyboard, then render, edit and render again', () => {
  it('pays only for the script, then for each edit only what it made stale', async () => {
    const file = join(dataDir, 'constantinople.json');
    const written = await reelforge(['storyboard', '12', 'The fall of Constantinople', '--out', file]);
    expect(written.code, written.stderr).toBe(0);
    expect(paidSince(0)).toEqual({ chat: 1, images: 0, speech: 0 });
    expect(written.stderr).toMatch(/Rendering it: ~\$0\.0\d+/);
    expect(written.stderr).not.toContain(KEY);

    const storyboard = JSON.parse(await readFile(file, 'utf8')) as Storyboard;
    expect(storyboard).toMatchObject({ version: 1, topic: 'The fall of Constantinople', language: 'en', tier: 'ultra_fast', seconds: 12 });
    const scenes = storyboard.segments.length;
    expect(scenes).toBeGreaterThanOrEqual(2);
    for (const segment of storyboard.segments) {
      expect(segment.narration.length).toBeGreaterThan(5);
      expect(segment.picture.length).toBeGreaterThan(5);
    }

    // The first render: no script call, a picture and a voice for every scene, every segment encoded.
    const first = await render(file);
    expect(first.paid).toEqual({ chat: 0, images: scenes, speech: scenes });
    expect(first.receipt).toMatchObject({ segments: scenes, title: storyboard.title, llm: { calls: 0 }, encodes: { made: scenes, reused: 0 } });
    expect(first.receipt.costUsd).toBeGreaterThan(0);

    // The same file again: nothing paid, nothing encoded.
    const again = await render(file);
    expect(again.paid).toEqual({ chat: 0, images: 0, speech: 0 });
    expect(again.receipt).toMatchObject({ images: { generated: 0, reused: scenes }, voices: { generated: 0, reused: scenes }, encodes: { made: 0, reused: scenes }, costUsd: 0 });

    // A new line for the last scene: one speech call, that one segment re-encoded.
    await edit(file, (s) => (s.segments[scenes - 1]!.narration = 'And so the city fell, and a new age of empires began.'));
    const line = await render(file);
    expect(line.paid).toEqual({ chat: 0, images: 0, speech: 1 });
    expect(line.receipt).toMatchObject({ voices: { generated: 1, reused: scenes - 1 }, encodes: { made: 1, reused: scenes - 1 } });
    expect(line.receipt.costUsd).toBeGreaterThan(0);

    // A new picture for the first scene: one image call, no speech, that one segment re-encoded.
    await edit(file, (s) => (s.segments[0]!.picture = 'Ottoman cannons firing at the great walls at dawn, smoke over the Golden Horn'));
    const picture = await render(file);
    expect(picture.paid).toEqual({ chat: 0, images: 1, speech: 0 });
    expect(picture.receipt).toMatchObject({ images: { generated: 1, reused: scenes - 1 }, encodes: { made: 1, reused: scenes - 1 } });
    const imageRequest = fake.requests.filter((r) => r.path === '/v1/images/generations').at(-1)!;
    expect(JSON.stringify(imageRequest.body)).toContain('Ottoman cannons firing');

    // A re-roll: another take of the same description is another picture, one image call.
    await edit(file, (s) => (s.segments[0]!.take = 1));
    const reroll = await render(file);
    expect(reroll.paid).toEqual({ chat: 0, images: 1, speech: 0 });
    expect(reroll.receipt).toMatchObject({ encodes: { made: 1, reused: scenes - 1 } });

    // Another voice: every line spoken again, pictures and segment clips reused (captions do not depend on the voice's name).
    await edit(file, (s) => (s.voice = 'nova'));
    const voice = await render(file);
    expect(voice.paid).toEqual({ chat: 0, images: 0, speech: scenes });
    expect(fake.requests.filter((r) => r.path === '/v1/audio/speech').slice(-scenes).every((r) => r.body.voice === 'nova')).toBe(true);

    // Another caption style: nothing paid (pictures, voices and their word timings come from the caches), every clip encoded again.
    const from = fake.requests.length;
    const popped = await reelforge(['render', file, '--json', '--captions', 'pop']);
    expect(popped.code, popped.stderr).toBe(0);
    expect(fake.requests.slice(from).map((r) => r.path)).toEqual([]);
    expect(JSON.parse(popped.stdout)).toMatchObject({ captions: 'pop', costUsd: 0, encodes: { made: scenes, reused: 0 } });
  }, 600_000);
});

describe('reelforge render refuses a broken storyboard with one clear line', () => {
  const valid = (): Storyboard => ({
    version: 1,
    title: 'Tea',
    topic: 'The history of tea',
    language: 'en',
    tier: 'ultra_fast',
    seconds: 12,
    aspect: '9:16',
    mood: 'calm',
    draft: true,
    segments: [
      { narration: 'Tea began in China.', picture: 'A tea bush on a misty hill', people: [] },
      { narration: 'It crossed the world by sea.', picture: 'A clipper ship under full sail', people: [] },
    ],
  });

  it('names the file and the field, exit code 2 (every rule: test/pipeline/storyboard.test.ts)', async () => {
    const file = join(dataDir, 'misspelt.json');
    await writeFile(file, JSON.stringify({ ...valid(), segments: [{ narations: 'x', narration: 'Tea.', picture: 'A tea cup' }] }));
    const result = await reelforge(['render', file], {});
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`reelforge: The storyboard "${file}" is not valid: segments[1]: unknown field "narations".`);
    expect(result.stdout).toBe('');
  });

  it('refuses an unknown caption style, naming the styles', async () => {
    const file = join(dataDir, 'styles.json');
    await writeFile(file, JSON.stringify(valid()));
    const result = await reelforge(['render', file, '--captions', 'neon'], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Unknown caption style "neon": use clean, karaoke, pop\./);
  });

  it('says which file it cannot read', async () => {
    const result = await reelforge(['render', '/nonexistent/board.json'], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Cannot read the storyboard file "\/nonexistent\/board.json"/);
  });

  it('renders a hand-written storyboard offline', async () => {
    const file = join(dataDir, 'tea.json');
    await writeFile(file, JSON.stringify(valid()));
    const result = await reelforge(['render', file, '--json', '--out', join(dataDir, 'tea.mp4')], {});
    expect(result.code, result.stderr).toBe(0);
    const receipt = JSON.parse(result.stdout) as Receipt;
    expect(receipt).toMatchObject({ output: join(dataDir, 'tea.mp4'), segments: 2, title: 'Tea', offline: true, costUsd: 0 });
  }, 240_000);
});
