import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Receipt } from '../../src/core/receipt.js';
import { probeMedia } from '../helpers/ffprobe.js';
import { runReelforge } from '../helpers/reelforge-process.js';

let dataDir: string;

/** A user with no keys and no bots configured. */
function reelforge(args: string[]): ReturnType<typeof runReelforge> {
  return runReelforge(args, { DATA_DIR: dataDir });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'reelforge-cli-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('reelforge video', () => {
  it.each([
    ['a word for the duration', ['video', 'abc', 'x'], /not a duration.*10 to 180/],
    ['a zero duration', ['video', '0', 'x'], /10 to 180 seconds long, not 0/],
    ['a huge duration', ['video', '999', 'x'], /10 to 180 seconds long, not 999/],
    ['no topic', ['video', '20'], /what the video is about/],
    ['a 10,000-character topic', ['video', '20', 'x'.repeat(10_000)], /keep it under 300/],
    ['no arguments', ['video'], /Give a duration and a topic/],
    ['an unknown tier', ['video', '20', 'tea', '--tier', 'max'], /Unknown tier/],
    ['an unknown flag', ['video', '20', 'tea', '--bogus'], /Unknown option/],
    ['a missing script file', ['video', '20', 'tea', '--script', '/nonexistent/script.txt'], /Cannot read the script file/],
  ] as Array<[string, string[], RegExp]>)('refuses %s with exit code 2 and one line', async (_label, args, message) => {
    const result = await reelforge(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
  });

  it('renders an offline video and prints the JSON receipt on stdout', async () => {
    const result = await reelforge(['video', '12', 'The history of tea', '--json']);
    expect(result.stderr).toContain('offline providers');
    expect(result.code).toBe(0);
    const receipt = JSON.parse(result.stdout) as Receipt;
    expect(receipt).toMatchObject({
      width: 1080,
      height: 1920,
      tier: 'ultra_fast',
      offline: true,
      llm: { calls: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0 },
      costUsd: 0,
    });
    expect(receipt.output.startsWith(join(dataDir, 'out'))).toBe(true);
    expect(receipt.segments).toBeGreaterThanOrEqual(2);
    expect(receipt.durationSec).toBeGreaterThan(8);
    expect(receipt.durationSec).toBeLessThan(20);
    expect(receipt.ttsCharacters).toBeGreaterThan(50);
    for (const stage of ['script', 'images', 'voice', 'render', 'total']) expect(receipt.timingsMs[stage]).toBeGreaterThan(0);
    const file = await stat(receipt.output);
    expect(file.size).toBe(receipt.sizeBytes);
    const probe = await probeMedia(receipt.output);
    expect(probe.video?.codec).toBe('h264');
    expect(probe.audio?.codec).toBe('aac');
    expect(probe.durationSec).toBeCloseTo(receipt.durationSec, 0);
    // The work directory is gone; the output and its thumbnail stay.
    expect(await readdir(join(dataDir, 'work'))).toEqual([]);
  });
});
