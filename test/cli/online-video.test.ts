/**
 * `reelforge video` through the real HTTP path: the openai SDK against the fake OpenAI-compatible
 * server (streamed script, images, speech), real ffmpeg, the receipt with counted tokens and cost.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Receipt } from '../../src/core/receipt.js';
import { FakeOpenAiServer } from '../fakes/openai-server.js';
import { runReelforge } from '../helpers/reelforge-process.js';

let fake: FakeOpenAiServer;
let dataDir: string;

beforeAll(async () => {
  fake = await FakeOpenAiServer.start({ apiKey: 'sk-test-key-123456', imageScale: 0.5 });
  dataDir = await mkdtemp(join(tmpdir(), 'reelforge-online-'));
});
afterAll(async () => {
  await fake.close();
  await rm(dataDir, { recursive: true, force: true });
});

function reelforge(args: string[], extra: Record<string, string>): ReturnType<typeof runReelforge> {
  return runReelforge(args, { DATA_DIR: dataDir, OPENAI_BASE_URL: fake.baseURL, ...extra });
}

describe('reelforge video with OPENAI_BASE_URL', () => {
  it('writes the script, pictures and voice through the OpenAI API and counts every token', async () => {
    const result = await reelforge(['video', '12', 'The fall of Constantinople', '--json'], { OPENAI_API_KEY: 'sk-test-key-123456' });
    expect(result.code, result.stderr).toBe(0);
    const receipt = JSON.parse(result.stdout) as Receipt;
    expect(receipt.offline).toBe(false);
    expect(receipt.llm.calls).toBeGreaterThanOrEqual(1);
    expect(receipt.llm.calls).toBeLessThanOrEqual(2);
    expect(receipt.llm.totalTokens).toBe(receipt.llm.promptTokens + receipt.llm.completionTokens);
    expect(receipt.llm.totalTokens).toBeGreaterThan(100);
    expect(receipt.images.generated + receipt.images.reused).toBe(receipt.segments);
    expect(receipt.costUsd).toBeGreaterThan(0);
    const paths = fake.requests.map((r) => r.path);
    expect(paths).toContain('/v1/chat/completions');
    expect(paths).toContain('/v1/images/generations');
    expect(paths).toContain('/v1/audio/speech');
    expect(result.stderr).not.toContain('sk-test-key-123456');
  });

  it('says plainly that the key was refused, without printing it', async () => {
    const result = await reelforge(['video', '12', 'Tea'], { OPENAI_API_KEY: 'sk-wrong-key-999999' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/key/i);
    expect(result.stderr).not.toContain('sk-wrong-key-999999');
    expect(result.stdout).toBe('');
  });
});
