/**
 * The storyboard flows end to end in one process: the fake Bot API and the fake OpenAI server, the
 * real grammY bot (long polling), the local queue working jobs with the real worker render
 * (createJobRender over the real runtime: real pipeline, caches and ffmpeg) and the service's own
 * storyboard writer. What the fake OpenAI server saw is what was paid for.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTelegramBot, type RunningTelegramBot } from '../../../src/bots/telegram/run.js';
import { TelegramNotifier } from '../../../src/bots/telegram/notifier.js';
import type { StoryboardService } from '../../../src/bots/shared/storyboard-drafts.js';
import { loadConfig } from '../../../src/config.js';
import { createVideoJobProcessor, notifierRegistry } from '../../../src/jobs/video-job.js';
import { createLogger } from '../../../src/log.js';
import { createJobRender, createRuntime, createStoryboardService } from '../../../src/main.js';
import { LocalJobQueue } from '../../../src/queue/local-queue.js';
import { FileSettingsStore } from '../../../src/store/file-settings-store.js';
import { FakeOpenAiServer } from '../../fakes/openai-server.js';
import { FakeTelegramServer } from '../../fakes/telegram-server.js';

const KEY = 'sk-test-storyboard-chat-123456';

export interface StoryboardHarness {
  telegram: FakeTelegramServer;
  openai: FakeOpenAiServer;
  queue: LocalJobQueue;
  storyboards: StoryboardService;
  /** Paid requests the fake OpenAI server saw since `from` (an index into its log). */
  paidSince(from: number): { chat: number; images: number; speech: number };
  stop(): Promise<void>;
}

export async function startStoryboardHarness(options: { adminIds?: string[] } = {}): Promise<StoryboardHarness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'reelforge-tg-storyboard-'));
  const telegram = await FakeTelegramServer.start();
  const openai = await FakeOpenAiServer.start({ apiKey: KEY, imageScale: 0.25 });
  const config = loadConfig({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: openai.baseURL, DATA_DIR: dataDir });
  const log = createLogger('warn', []);
  const runtime = createRuntime(config, log);
  const settings = await FileSettingsStore.open(dataDir);
  const queue = await LocalJobQueue.open({ dir: join(dataDir, 'queue'), concurrency: 1, attempts: 1 });
  const notifier = new TelegramNotifier({ token: telegram.token, apiRoot: telegram.apiRoot, log, minIntervalMs: { private: 200, group: 200 } });
  await queue.work(createVideoJobProcessor({ render: createJobRender(runtime, settings, config.storyboards.keepMs), notifiers: notifierRegistry([notifier]), log }));
  const adminIds = new Set(options.adminIds ?? ['telegram:9000']);
  const storyboards = createStoryboardService(config, runtime.deps, { settings, policy: { adminIds, allowedUsers: null, allowedChats: null, limits: {} } });
  const running: RunningTelegramBot = await startTelegramBot({
    token: telegram.token,
    apiRoot: telegram.apiRoot,
    queue,
    settings,
    adminIds,
    botInfo: telegram.botInfo,
    notifier,
    log,
    storyboards,
    mode: { kind: 'polling', timeoutSec: 2 },
  });
  return {
    telegram,
    openai,
    queue,
    storyboards,
    paidSince: (from) => {
      const since = openai.requests.slice(from);
      return {
        chat: since.filter((r) => r.path === '/v1/chat/completions').length,
        images: since.filter((r) => r.path === '/v1/images/generations').length,
        speech: since.filter((r) => r.path === '/v1/audio/speech').length,
      };
    },
    stop: async () => {
      await running.stop();
      await queue.close();
      await notifier.idle();
      await settings.close();
      await telegram.close();
      await openai.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
