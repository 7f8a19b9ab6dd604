/**
 * The Discord end-to-end rig: the fake Discord server, the real bot (discord.js) and notifier
 * (@discordjs/rest) pointed at it, a LocalJobQueue in a temp DATA_DIR and the real video job
 * processor, with a quick render that reports progress like the pipeline and makes a real MP4.
 */
import { loggerInto, type LoggedLine } from '../../helpers/logs.js';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createDiscordBot, type DiscordBot } from '../../../src/bots/discord/bot.js';
import type { StoryboardService } from '../../../src/bots/shared/storyboard-drafts.js';
import { DiscordNotifier } from '../../../src/bots/discord/notifier.js';
import type { ProgressEvent } from '../../../src/core/progress.js';
import type { Receipt } from '../../../src/core/receipt.js';
import { tierForDuration, type Tier } from '../../../src/core/tiers.js';
import { createVideoJobProcessor, notifierRegistry, type RenderVideo } from '../../../src/jobs/video-job.js';
import { FfmpegAssembler } from '../../../src/providers/ffmpeg/assembler.js';
import { LocalJobQueue } from '../../../src/queue/local-queue.js';
import type { VideoJobData } from '../../../src/queue/types.js';
import { MemorySettingsStore } from '../../../src/store/memory-settings-store.js';
import { FakeDiscordServer, type FakeUser, type StoredMessage } from '../../fakes/discord-server.js';

const run = promisify(execFile);

export const TOKEN = 'MTAwMDAwMDAwMDAwMDAwMDAx.fake.bot-token-for-tests';
export const APP_ID = '800000000000000001';
export const GUILD_ID = '700000000000000001';
export const CHANNEL_ID = '600000000000000001';
export const OTHER_CHANNEL_ID = '600000000000000002';

export const alice: FakeUser = { id: '310000000000000001', username: 'alice' };
export const boris: FakeUser = { id: '310000000000000002', username: 'boris' };
export const admin: FakeUser = { id: '310000000000000009', username: 'root' };
/** Members without Manage Server (what Discord would send for a plain member). */
export const MEMBER_PERMISSIONS = '2248473465835073';

/** How a test wants the render of one topic to behave. */
export interface RenderPlan {
  /** Pause between progress events. */
  stepMs?: number;
  /** Keep rendering until aborted (for Cancel). */
  hold?: boolean;
  /** x264 CRF of the made file: low values make big files (the size-limit path). */
  crf?: number;
}

export interface RenderCall {
  jobId: string;
  owner: string;
  topic: string;
  tier: Tier | undefined;
  captions: string | undefined;
  startedAt: number;
  aborted?: boolean;
}

export interface Harness {
  fake: FakeDiscordServer;
  bot: DiscordBot;
  notifier: DiscordNotifier;
  queue: LocalJobQueue;
  settings: MemorySettingsStore;
  dataDir: string;
  plans: Map<string, RenderPlan>;
  renders: RenderCall[];
  logs: LoggedLine[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Interaction token lifetime, in the fake and in the notifier (15 min in real Discord). */
  tokenLifetimeMs: number;
  tokenMarginMs: number;
  editIntervalMs?: number;
  /** The real worker render and /storyboard (test/bots/discord/storyboard.test.ts); the quick fake render otherwise. */
  render?: RenderVideo;
  storyboards?: StoryboardService;
  settings?: MemorySettingsStore;
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'reelforge-discord-'));
  const fake = await FakeDiscordServer.start({
    token: TOKEN,
    applicationId: APP_ID,
    tokenLifetimeMs: options.tokenLifetimeMs,
    guilds: [
      {
        id: GUILD_ID,
        name: 'History Club',
        channels: [
          { id: CHANNEL_ID, name: 'videos' },
          { id: OTHER_CHANNEL_ID, name: 'general' },
        ],
      },
    ],
  });
  const logs: Harness['logs'] = [];
  const log = loggerInto(logs);
  const notifier = new DiscordNotifier({
    token: TOKEN,
    apiBase: fake.apiBase,
    log,
    tokenLifetimeMs: options.tokenLifetimeMs,
    tokenMarginMs: options.tokenMarginMs,
    editIntervalMs: options.editIntervalMs ?? 250,
  });
  const queue = await LocalJobQueue.open({ dir: join(dataDir, 'queue'), concurrency: 1, attempts: 1, userWaiting: 3 });
  const settings = options.settings ?? new MemorySettingsStore();
  const plans = new Map<string, RenderPlan>();
  const renders: RenderCall[] = [];
  const outDir = join(dataDir, 'out');
  await mkdir(outDir, { recursive: true });

  const render: RenderVideo = options.render ?? ((data, job) => fakeRender(data, job, { plans, renders, outDir }));
  const harness: Harness = {
    fake,
    notifier,
    queue,
    settings,
    dataDir,
    plans,
    renders,
    logs,
    bot: createDiscordBot({
      token: TOKEN,
      applicationId: APP_ID,
      apiBase: fake.apiBase,
      guildId: GUILD_ID,
      queue,
      settings,
      adminIds: new Set([`discord:${admin.id}`, 'telegram:1']),
      notifier,
      log,
      ...(options.storyboards ? { storyboards: options.storyboards } : {}),
    }),
    async close() {
      await harness.bot.stop();
      notifier.close();
      await queue.close();
      await fake.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  const assembler = new FfmpegAssembler({ renderConcurrency: 1 });
  await queue.work(createVideoJobProcessor({ render, notifiers: notifierRegistry([notifier]), assembler, log }));
  await harness.bot.start();
  return harness;
}

async function fakeRender(
  data: VideoJobData,
  job: { jobId: string; signal: AbortSignal; onProgress: (event: ProgressEvent) => void },
  ctx: { plans: Map<string, RenderPlan>; renders: RenderCall[]; outDir: string },
): Promise<{ path: string; receipt: Receipt }> {
  const { request } = data;
  const plan = ctx.plans.get(request.topic) ?? {};
  const step = plan.stepMs ?? 120;
  const call: RenderCall = {
    jobId: job.jobId,
    owner: `${data.owner.platform}:${data.owner.userId}`,
    topic: request.topic,
    tier: request.tier,
    captions: request.captions,
    startedAt: Date.now(),
  };
  ctx.renders.push(call);
  const emit = job.onProgress;
  const wait = async (ms: number): Promise<void> => {
    try {
      await sleep(ms, undefined, { signal: job.signal });
    } catch (error) {
      call.aborted = true;
      throw error;
    }
  };
  const tier = request.tier ?? tierForDuration(request.durationSec);
  const segments = 4;
  emit({ type: 'started', offline: true, tier, segments });
  emit({ type: 'stage', stage: 'script', status: 'running' });
  await wait(step);
  emit({ type: 'title', title: request.topic });
  emit({ type: 'stage', stage: 'script', status: 'done' });
  if (plan.hold) await wait(60_000);
  for (let i = 1; i <= segments; i++) {
    emit({ type: 'count', stage: 'images', done: i, total: segments });
    await wait(step);
  }
  emit({ type: 'stage', stage: 'images', status: 'done' });
  emit({ type: 'stage', stage: 'voice', status: 'running' });
  await wait(step);
  emit({ type: 'stage', stage: 'voice', status: 'done' });
  emit({ type: 'stage', stage: 'music', status: 'done' });
  emit({ type: 'stage', stage: 'render', status: 'running' });
  const path = join(ctx.outDir, `${job.jobId}.mp4`);
  await makeMp4(path, request.durationSec, plan.crf ?? 30, job.signal);
  await wait(step);
  emit({ type: 'stage', stage: 'render', status: 'done' });
  const sizeBytes = (await stat(path)).size;
  return {
    path,
    receipt: {
      output: path,
      title: request.topic,
      durationSec: request.durationSec,
      width: 270,
      height: 480,
      sizeBytes,
      tier,
      segments,
      offline: true,
      lang: request.lang,
      llm: { calls: 1, promptTokens: 812, completionTokens: 431, totalTokens: 1243 },
      images: { generated: segments, reused: 0 },
      ttsCharacters: 320,
      costUsd: 0,
      timingsMs: {},
    },
  };
}

/** A small real MP4: moving test pattern and a tone, H.264 + AAC, `durationSec` long. */
export async function makeMp4(path: string, durationSec: number, crf = 30, signal?: AbortSignal): Promise<void> {
  await run(
    'ffmpeg',
    [
      '-y', '-v', 'error',
      '-f', 'lavfi', '-i', `testsrc2=size=270x480:rate=30:duration=${durationSec}`,
      '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${durationSec}`,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', String(crf), '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-b:a', '96k', '-shortest', '-movflags', '+faststart', path,
    ],
    { signal },
  );
}

/** The finished state of a progress message: an MP4 attachment is on it. */
export function delivered(message: StoredMessage | undefined): StoredMessage | undefined {
  return message?.attachments.some((a) => a.filename.endsWith('.mp4')) ? message : undefined;
}

export function commandOptions(values: Record<string, string | number>): Array<{ name: string; type: number; value: string | number }> {
  return Object.entries(values).map(([name, value]) => ({ name, type: typeof value === 'number' ? 4 : 3, value }));
}
