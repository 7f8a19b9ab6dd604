/**
 * Jobs that carry a storyboard or re-make an earlier job's video, run by the real worker render
 * (createJobRender over the real runtime) through the local queue, against the fake OpenAI server
 * and real ffmpeg: a given storyboard costs no script call; a re-make costs only what it made stale.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { ChatTarget } from '../../src/core/chat-target.js';
import type { ReelforgeError } from '../../src/core/errors.js';
import type { Receipt } from '../../src/core/receipt.js';
import { readKeptStoryboard } from '../../src/jobs/job-storyboards.js';
import type { Notifier } from '../../src/jobs/notifier.js';
import { createVideoJobProcessor, notifierRegistry } from '../../src/jobs/video-job.js';
import { silentLogger } from '../../src/log.js';
import { createJobRender, createRuntime } from '../../src/main.js';
import { LocalJobQueue } from '../../src/queue/local-queue.js';
import type { QueueEvent, VideoJobData } from '../../src/queue/types.js';
import { MemorySettingsStore } from '../../src/store/memory-settings-store.js';
import { FakeOpenAiServer } from '../fakes/openai-server.js';

const KEY = 'sk-test-storyboard-jobs-1234';
let fake: FakeOpenAiServer;
let dataDir: string;
let queue: LocalJobQueue;
const settings = new MemorySettingsStore();
const delivered: Receipt[] = [];
const failures: ReelforgeError[] = [];

/** The Notifier port in memory: records what a chat would get. */
const chat: Notifier = {
  platform: 'telegram',
  uploadLimitBytes: () => 50 * 1024 * 1024,
  progress: () => Promise.resolve(),
  deliver: (_target, video) => {
    delivered.push(video.receipt);
    return Promise.resolve();
  },
  fail: (_target, error) => {
    failures.push(error);
    return Promise.resolve();
  },
};
const target: ChatTarget = { platform: 'telegram', chatId: 5, locale: 'en' };

beforeAll(async () => {
  fake = await FakeOpenAiServer.start({ apiKey: KEY, imageScale: 0.25 });
  dataDir = await mkdtemp(join(tmpdir(), 'reelforge-sb-jobs-'));
  const config = loadConfig({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: fake.baseURL, DATA_DIR: dataDir, STORYBOARD_KEEP_HOURS: '1' });
  const runtime = createRuntime(config, silentLogger());
  queue = await LocalJobQueue.open({ dir: join(dataDir, 'queue'), concurrency: 1, attempts: 1 });
  await queue.work(createVideoJobProcessor({ render: createJobRender(runtime, settings, config.storyboards.keepMs), notifiers: notifierRegistry([chat]) }));
});
afterAll(async () => {
  await queue?.close();
  await fake?.close();
  await rm(dataDir, { recursive: true, force: true });
});

function paidSince(from: number): { chat: number; images: number; speech: number } {
  const since = fake.requests.slice(from);
  return {
    chat: since.filter((r) => r.path === '/v1/chat/completions').length,
    images: since.filter((r) => r.path === '/v1/images/generations').length,
    speech: since.filter((r) => r.path === '/v1/audio/speech').length,
  };
}

/** Runs one job to its end; its receipt and what it paid for. */
async function run(data: VideoJobData): Promise<{ id: string; end: QueueEvent; paid: ReturnType<typeof paidSince> }> {
  const from = fake.requests.length;
  let resolveEnd: (event: QueueEvent) => void = () => undefined;
  const ended = new Promise<QueueEvent>((resolve) => (resolveEnd = resolve));
  let id = '';
  const unsubscribe = queue.subscribe((event) => {
    if (event.jobId === id && (event.type === 'completed' || event.type === 'failed')) resolveEnd(event);
  });
  try {
    id = (await queue.enqueue(data, { idempotencyKey: randomUUID() })).id;
    const end = await ended;
    return { id, end, paid: paidSince(from) };
  } finally {
    unsubscribe();
  }
}

const base = (): VideoJobData => ({
  request: { topic: 'The history of tea', durationSec: 12, lang: 'en', aspect: '9:16' },
  owner: { platform: 'telegram', userId: '7', chatId: '5' },
  target,
  createdAt: Date.now(),
});

describe('jobs with a storyboard, and re-makes of a delivered video', () => {
  it('keeps a plain job’s storyboard, re-rolls one scene for one image call, changes the voice, and renders a given storyboard without a script call', async () => {
    const first = await run(base());
    expect(first.end.type).toBe('completed');
    const scenes = first.end.type === 'completed' ? first.end.result.receipt.segments : 0;
    expect(scenes).toBeGreaterThanOrEqual(2);
    expect(first.paid).toEqual({ chat: 1, images: scenes, speech: scenes });
    const kept = await readKeptStoryboard(settings, first.id);
    expect(kept).toMatchObject({ owner: { userId: '7' }, scenes });

    // A re-roll of scene 2: one image call, no speech and no script, that one segment encoded again.
    const reroll = await run({ ...base(), remake: { fromJobId: first.id, changes: [{ kind: 'reroll', scene: 2 }] } });
    expect(reroll.paid).toEqual({ chat: 0, images: 1, speech: 0 });
    expect(reroll.end.type === 'completed' && reroll.end.result.receipt).toMatchObject({ images: { generated: 1, reused: scenes - 1 }, encodes: { made: 1, reused: scenes - 1 } });
    expect((await readKeptStoryboard(settings, reroll.id))?.storyboard.segments[1]?.take).toBe(1);

    // Another voice over the re-rolled video: every line spoken again, no picture.
    const voice = await run({ ...base(), remake: { fromJobId: reroll.id, changes: [{ kind: 'voice', voice: 'nova' }] } });
    expect(voice.paid).toEqual({ chat: 0, images: 0, speech: scenes });

    // The kept storyboard as a given one, in the job's caption style: nothing to pay at all.
    const given = await run({ ...base(), request: { ...base().request, captions: 'pop' }, storyboard: kept!.storyboard });
    expect(given.paid).toEqual({ chat: 0, images: 0, speech: 0 });
    expect(given.end.type === 'completed' && given.end.result.receipt.captions).toBe('pop');
    expect(delivered).toHaveLength(4);
  }, 400_000);

  it('fails a re-make plainly when the storyboard is no longer kept, or names a scene it does not have', async () => {
    const gone = await run({ ...base(), remake: { fromJobId: 'nosuchjob', changes: [{ kind: 'reroll', scene: 1 }] } });
    expect(gone.end).toMatchObject({ type: 'failed', error: { code: 'bad_input' } });
    expect(failures.at(-1)?.message).toMatch(/too old to change/);
    expect(gone.paid).toEqual({ chat: 0, images: 0, speech: 0 });
  }, 60_000);
});
