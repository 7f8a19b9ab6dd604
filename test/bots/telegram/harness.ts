/**
 * One running system for bot tests: the fake Bot API, the real grammY bot (long polling through
 * src/bots/telegram/poller.ts), a LocalJobQueue in a temp DATA_DIR working jobs with the real video-job
 * processor, the TelegramNotifier, and a fake render that makes real MP4s.
 */
import { loggerInto, type LoggedLine } from '../../helpers/logs.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTelegramBot, type RunningTelegramBot } from '../../../src/bots/telegram/run.js';
import { TelegramNotifier } from '../../../src/bots/telegram/notifier.js';
import { createVideoJobProcessor, notifierRegistry } from '../../../src/jobs/video-job.js';
import { LocalJobQueue } from '../../../src/queue/local-queue.js';
import type { QueueLimits } from '../../../src/queue/limits.js';
import { FileSettingsStore } from '../../../src/store/file-settings-store.js';
import type { SettingsStore } from '../../../src/store/settings.js';
import { FakeTelegramServer, type FakeTelegramOptions, type FakeUser } from '../../fakes/telegram-server.js';
import { createFakeRender, type FakeRender } from './fake-render.js';

export interface Harness {
  fake: FakeTelegramServer;
  queue: LocalJobQueue;
  settings: SettingsStore;
  notifier: TelegramNotifier;
  running: RunningTelegramBot;
  render: FakeRender;
  dataDir: string;
  logs: LoggedLine[];
  stop(): Promise<void>;
}

export interface HarnessOptions {
  fake?: FakeTelegramOptions;
  limits?: Partial<QueueLimits>;
  concurrency?: number;
  adminIds?: string[];
  minIntervalMs?: { private: number; group: number };
  renderStepMs?: number;
  /** Keep this DATA_DIR (and its settings file) instead of a fresh one. */
  dataDir?: string;
}

export const alice: FakeUser = { id: 1001, first_name: 'Alice', username: 'alice', language_code: 'en' };
export const boris: FakeUser = { id: 1002, first_name: 'Борис', username: 'boris', language_code: 'ru' };
export const carol: FakeUser = { id: 1003, first_name: 'Carol', language_code: 'en-GB' };
export const admin: FakeUser = { id: 9000, first_name: 'Admin', username: 'the_admin', language_code: 'en' };

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'reelforge-tg-')));
  const fake = await FakeTelegramServer.start(options.fake);
  const logs: Harness['logs'] = [];
  const log = loggerInto(logs);
  const queue = await LocalJobQueue.open({ dir: join(dataDir, 'queue'), concurrency: options.concurrency ?? 2, attempts: 1, ...options.limits });
  const settings = await FileSettingsStore.open(dataDir);
  const notifier = new TelegramNotifier({
    token: fake.token,
    apiRoot: fake.apiRoot,
    log,
    ...(options.minIntervalMs ? { minIntervalMs: options.minIntervalMs } : {}),
  });
  const render = createFakeRender(dataDir, options.renderStepMs !== undefined ? { stepMs: options.renderStepMs } : {});
  await queue.work(createVideoJobProcessor({ render: render.render, notifiers: notifierRegistry([notifier]), log }));
  const running = await startTelegramBot({
    token: fake.token,
    apiRoot: fake.apiRoot,
    queue,
    settings,
    adminIds: new Set((options.adminIds ?? [`telegram:${admin.id}`])),
    botInfo: fake.botInfo,
    notifier,
    log,
    mode: { kind: 'polling', timeoutSec: 2 },
  });
  return {
    fake,
    queue,
    settings,
    notifier,
    running,
    render,
    dataDir,
    logs,
    stop: async () => {
      render.release();
      await running.stop();
      await queue.close();
      await notifier.idle();
      await settings.close();
      await fake.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
