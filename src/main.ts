/**
 * The composition root: reads the config once, builds providers for it (OpenAI-compatible when a
 * key or base URL is set, offline otherwise), and wires the pipeline, queue, jobs and bots.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RenderCommand, VideoCommand } from './cli.js';
import { createProgressPrinter } from './cli-progress.js';
import { loadConfig, loadDotEnv, type Config } from './config.js';
import { ReelforgeError, cancelled } from './core/errors.js';
import type { ProgressEvent } from './core/progress.js';
import { emptyUsage, type Receipt } from './core/receipt.js';
import { whileDiskFull } from './core/while-disk-full.js';
import { MAX_DURATION_SEC, aspectSize, type VideoRequest } from './core/request.js';
import { createVideoJobProcessor, jobTimeLimitMs, notifierRegistry, type RenderOutput, type RenderVideo } from './jobs/video-job.js';
import { keepStoryboard, planJob } from './jobs/job-storyboards.js';
import { createDiscordBot } from './bots/discord/bot.js';
import { DiscordNotifier } from './bots/discord/notifier.js';
import { TelegramNotifier } from './bots/telegram/notifier.js';
import { startTelegramBot } from './bots/telegram/run.js';
import { openJobQueue } from './queue/open-queue.js';
import { RedisSettingsStore } from './redis/settings-store.js';
import { FileSettingsStore } from './store/file-settings-store.js';
import { withUsageRecording } from './store/record-usage.js';
import type { SettingsStore } from './store/settings.js';
import { createLogger, type Logger } from './log.js';
import { Supervisor } from './supervisor.js';
import type { Script } from './pipeline/model.js';
import { runPipeline, type PipelineDeps } from './pipeline/run-pipeline.js';
import { formatStoryboard, parseStoryboard, scriptStoryboard, storyboardRequest, storyboardScript, writeStoryboard, type Storyboard } from './pipeline/storyboard.js';
import { cachedSegments, fingerprintFolder, startPruning } from './providers/cache/index.js';
import { FfmpegAssembler } from './providers/ffmpeg/assembler.js';
import { checkTools } from './providers/ffmpeg/run-ffmpeg.js';
import { MusicLibrary } from './providers/music/library.js';
import { EspeakSpeech } from './providers/offline/espeak-speech.js';
import { OfflineIllustrator } from './providers/offline/illustrator.js';
import { OfflineScriptWriter } from './providers/offline/script-writer.js';
import { limitImages, limitSpeech } from './providers/limit.js';
import { createOpenAiProviders, DEFAULT_TRANSCRIPTION_MODEL } from './providers/openai/index.js';
import { createSegmentReview } from './pipeline/dedup.js';
import { buildPricingTable, estimateCost, estimateJobCost } from './pipeline/pricing.js';
import { targetSegmentCount } from './pipeline/segmenting.js';
import { admitSpend, withAdmission, type AccessPolicy } from './access/admission.js';
import type { StoryboardService } from './bots/shared/storyboard-drafts.js';
import { createMetrics } from './metrics/metrics.js';
import { withJobMetrics } from './metrics/observe-jobs.js';
import { startMetricsServer } from './metrics/server.js';

/** The folder holding package.json, music/ and prompts/, wherever the command is run from. */
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface Runtime {
  config: Config;
  log: Logger;
  deps: PipelineDeps;
  render(request: VideoRequest, options: RenderOptions): Promise<RenderOutput>;
}

export interface RenderOptions {
  jobId?: string;
  /** The job's logger (with jobId, platform, user and chat); otherwise the runtime's, with the jobId. */
  log?: Logger;
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  outPath?: string;
  wantBible?: boolean;
  /** Also write a JPEG thumbnail beside the video (chats show it before playing). */
  thumbnail?: boolean;
  /** The destination's upload limit in bytes. */
  maxBytes?: number;
  /** A script already written (a storyboard): no script call; the caches make the rest incremental. */
  script?: Script;
  /** A voice over the configured one. */
  voice?: string;
  /** Told the script as rendered, once the video is made (see PipelineRun.onScript). */
  onScript?: (script: Script) => void;
}

/** The encoder's code, folded into the encoded-segment cache's keys: another version of it misses. */
const ENCODER_CODE = fileURLToPath(new URL('./providers/ffmpeg/', import.meta.url));

/** `overrides` replaces ports (the soak bench's in-memory assembler); the service passes none. */
export function createRuntime(config: Config, log: Logger = loggerFor(config), overrides: Partial<PipelineDeps> = {}): Runtime {
  const deps = createPipelineDeps(config, log, overrides);
  // Segments are encoded once per distinct input: an edited storyboard re-encodes only what changed.
  const encoderVariant = fingerprintFolder(ENCODER_CODE).catch(() => randomUUID());
  const renderDeps: PipelineDeps = {
    ...deps,
    assembler: cachedSegments(deps.assembler, join(config.dataDir, 'cache', 'segments'), {
      variant: encoderVariant,
      onWarning: (message) => log.warn(message),
    }),
  };
  return {
    config,
    log,
    deps,
    async render(request, options) {
      const jobId = options.jobId ?? randomUUID().slice(0, 8);
      const jobLog = options.log ?? log.child({ jobId });
      const outDir = join(config.dataDir, 'out');
      const workRoot = join(config.dataDir, 'work');
      await Promise.all([mkdir(outDir, { recursive: true }), mkdir(workRoot, { recursive: true })]);
      const outPath = resolve(options.outPath ?? join(outDir, `${slug(request.topic)}-${jobId}.mp4`));
      const workDir = await mkdtemp(join(workRoot, `${jobId}-`));
      try {
        const receipt = await runPipeline(
          {
            request,
            workDir,
            outPath,
            ...(options.signal ? { signal: options.signal } : {}),
            ...(options.onProgress ? { onProgress: options.onProgress } : {}),
            ...(options.wantBible ? { wantBible: true } : {}),
            ...(options.maxBytes ? { maxBytes: options.maxBytes } : {}),
            ...(options.script ? { script: options.script } : {}),
            ...(options.voice ? { voice: options.voice } : {}),
            ...(options.onScript ? { onScript: options.onScript } : {}),
          },
          renderDeps,
        );
        let thumbnailPath: string | undefined;
        if (options.thumbnail) {
          const jpg = outPath.replace(/\.mp4$/i, '') + '.jpg';
          try {
            await deps.assembler.thumbnail(outPath, jpg, Math.min(1.5, receipt.durationSec / 2), options.signal);
          } catch (error) {
            // The job ends here (failed or cancelled): its video must not stay behind in out/.
            await Promise.all([rm(outPath, { force: true }), rm(jpg, { force: true })]);
            throw error;
          }
          thumbnailPath = jpg;
        }
        jobLog.info('video rendered', { output: receipt.output, seconds: receipt.durationSec, tokens: receipt.llm.totalTokens, costUsd: receipt.costUsd, ms: receipt.timingsMs.total });
        return { path: outPath, receipt, ...(thumbnailPath ? { thumbnailPath } : {}) };
      } finally {
        // Scratch files go whatever happened; the output and the caches stay.
        await rm(workDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Providers for the config: OpenAI-compatible ones (with content-addressed caches under
 * DATA_DIR/cache, the local dedup and multi-subject checks and cost estimates) when a key or base
 * URL is set, offline ones otherwise. One assembler per process: its pool bounds renders.
 */
export function createPipelineDeps(config: Config, log: Logger, overrides: Partial<PipelineDeps> = {}): PipelineDeps {
  const assembler = overrides.assembler ?? new FfmpegAssembler({ renderConcurrency: config.concurrency.render });
  const music = overrides.music ?? new MusicLibrary({ dir: join(PROJECT_ROOT, 'music'), onWarning: (message) => log.warn(message) });
  // One bound per provider, process-wide: N jobs at once make no more calls than one would.
  const limits = config.concurrency;
  const openai = config.openai;
  if (!openai) {
    return {
      writer: new OfflineScriptWriter(),
      images: limitImages(new OfflineIllustrator(), limits.images),
      speech: limitSpeech(new EspeakSpeech(), limits.speech),
      music,
      assembler,
      ...overrides,
    };
  }
  const providers = createOpenAiProviders({ ...openai, cacheDir: join(config.dataDir, 'cache') });
  const pricing = buildPricingTable(config.pricingOverrides);
  return {
    writer: providers.writer,
    fixer: providers.fixer,
    images: limitImages(providers.images, limits.images),
    speech: limitSpeech(providers.speech, limits.speech),
    music,
    assembler,
    voice: openai.ttsVoice,
    reviewFor: (profile) => createSegmentReview(profile),
    estimateCost: (usage) =>
      estimateCost(
        {
          llmModel: openai.llmModel,
          usage: usage.llm,
          imageModel: openai.imageModel,
          imageQuality: openai.imageQuality,
          imagesGenerated: usage.imagesGenerated,
          size: { width: usage.width, height: usage.height },
          ttsModel: openai.ttsModel,
          ttsCharacters: usage.ttsCharacters,
          transcriptionModel: DEFAULT_TRANSCRIPTION_MODEL,
          transcribedSec: usage.transcribedSec,
        },
        pricing,
      ).totalUsd,
    ...overrides,
  };
}

/** A job's expected cost from its length and the configured models; 0 with offline providers. */
function requestEstimator(config: Config): (request: VideoRequest) => number {
  const openai = config.openai;
  if (!openai) return () => 0;
  const pricing = buildPricingTable(config.pricingOverrides);
  return (request) =>
    estimateJobCost(
      {
        durationSec: request.durationSec,
        llmModel: openai.llmModel,
        imageModel: openai.imageModel,
        imageQuality: openai.imageQuality,
        ttsModel: openai.ttsModel,
        images: targetSegmentCount(request.durationSec),
        size: request.aspect === '1:1' ? '1024x1024' : '1024x1536',
      },
      pricing,
    );
}

function loggerFor(config: Config, level = config.logLevel): Logger {
  const webhookSecret = config.telegram?.mode.kind === 'webhook' ? config.telegram.mode.secret : undefined;
  return createLogger(level, [config.openai?.apiKey, config.telegram?.token, config.discord?.token, webhookSecret, redisPassword(config.redisUrl)]);
}

function redisPassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

function slug(text: string): string {
  const s = text
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
  return s || 'video';
}

/** Stops at once, with the install command, when a program the render needs is missing. */
async function preflight(): Promise<void> {
  const check = await checkTools();
  if (check.missing.length > 0) {
    throw new ReelforgeError('missing_dependency', `${check.missing.join(", ")} not found. Install with: ${check.installCommand} (or run: npm run setup)`);
  }
}

export async function runVideoCommand(command: VideoCommand): Promise<number> {
  loadDotEnv();
  const config = loadConfig();
  await preflight();
  const runtime = createRuntime(config, loggerFor(config, config.cliLogLevel));
  return renderWithProgress(runtime, command.request, { ...(command.out ? { outPath: command.out } : {}), wantBible: command.wantBible }, command.json);
}

/**
 * `reelforge storyboard`: the script only (one LLM call, no picture or voice), as an editable JSON
 * file, with what rendering it will cost.
 */
export async function runStoryboardCommand(command: VideoCommand): Promise<number> {
  loadDotEnv();
  const config = loadConfig();
  const log = loggerFor(config, config.cliLogLevel);
  const deps = createPipelineDeps(config, log);
  if (deps.writer.offline) process.stderr.write('No OPENAI_API_KEY or OPENAI_BASE_URL: the storyboard is an offline draft outline.\n');
  const controller = new AbortController();
  const onSignal = (): void => controller.abort(new ReelforgeError('cancelled', 'Cancelled (Ctrl-C).'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const { storyboard, usage } = await writeStoryboard(deps.writer, command.request, {
      wantBible: command.wantBible,
      ...(deps.voice ? { voice: deps.voice } : {}),
      ...(deps.speech.wordsPerSecond ? { wordsPerSecond: deps.speech.wordsPerSecond(command.request.lang) } : {}),
      signal: controller.signal,
    });
    const text = formatStoryboard(storyboard);
    if (command.out) await writeFile(command.out, text);
    else process.stdout.write(text);
    const paid = deps.estimateCost?.({ llm: usage, imagesGenerated: 0, width: 0, height: 0, ttsCharacters: 0 }) ?? 0;
    const estimate = estimateStoryboardCost(storyboard, deps);
    process.stderr.write(
      `${command.out ? `Wrote ${command.out}: ` : ''}"${storyboard.title}", ${storyboard.segments.length} scenes; ` +
        `${usage.totalTokens} LLM tokens (~$${paid.toFixed(4)}). Rendering it: ~$${estimate.toFixed(4)}. ` +
        `Edit segments[].narration and segments[].picture, then: reelforge render ${command.out ?? 'FILE'}\n`,
    );
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** What rendering a storyboard from nothing costs: a picture per scene and every line spoken. */
export function estimateStoryboardCost(storyboard: Storyboard, deps: Pick<PipelineDeps, 'estimateCost'>): number {
  const request = storyboardRequest(storyboard);
  const { width, height } = aspectSize(request.aspect);
  const ttsCharacters = storyboard.segments.reduce((sum, s) => sum + s.narration.length, 0);
  return deps.estimateCost?.({ llm: emptyUsage(), imagesGenerated: storyboard.segments.length, width, height, ttsCharacters }) ?? 0;
}

/** `reelforge render FILE`: a storyboard to a video; what an earlier render of it made comes from the caches. */
export async function runRenderCommand(command: RenderCommand): Promise<number> {
  let text: string;
  try {
    text = await readFile(command.file, 'utf8');
  } catch {
    throw new ReelforgeError('bad_input', `Cannot read the storyboard file "${command.file}".`);
  }
  const storyboard = parseStoryboard(text, `The storyboard "${command.file}"`);
  loadDotEnv();
  const config = loadConfig();
  await preflight();
  const runtime = createRuntime(config, loggerFor(config, config.cliLogLevel));
  return renderWithProgress(
    runtime,
    { ...storyboardRequest(storyboard), ...(command.captions ? { captions: command.captions } : {}) },
    { ...(command.out ? { outPath: command.out } : {}), script: storyboardScript(storyboard), ...(storyboard.voice ? { voice: storyboard.voice } : {}) },
    command.json,
  );
}

/** Renders with the progress bar on stderr; the receipt (`--json`) or the file's path on stdout. */
async function renderWithProgress(runtime: Runtime, request: VideoRequest, options: Omit<RenderOptions, 'signal' | 'onProgress'>, json: boolean): Promise<number> {
  const printer = createProgressPrinter();
  // Nothing is uploaded from the command line: the bar ends at 100 % when the file is written.
  printer.onEvent({ type: 'stage', stage: 'upload', status: 'skipped' });
  const controller = new AbortController();
  const onSignal = (): void => controller.abort(cancelled('Cancelled (Ctrl-C).'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const output = await runtime.render(request, { ...options, signal: controller.signal, onProgress: (event) => printer.onEvent(event) });
    printer.finish();
    if (json) {
      process.stdout.write(`${JSON.stringify(output.receipt, null, 2)}\n`);
    } else {
      const r = output.receipt;
      process.stderr.write(
        `Done in ${((r.timingsMs.total ?? 0) / 1000).toFixed(1)} s: ${r.durationSec} s, ${r.width}x${r.height}, ${r.segments} segments, ` +
          `${r.llm.totalTokens} LLM tokens, ~$${r.costUsd.toFixed(4)}${r.offline ? ' (offline draft)' : ''}${madeNow(r)}\n`,
      );
      process.stdout.write(`${output.path}\n`);
    }
    return 0;
  } finally {
    printer.finish();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** ", made now: 1 picture, 0 voices, 1 of 12 segments encoded" when part of the video came from the caches. */
function madeNow(r: Receipt): string {
  const encodes = r.encodes;
  if (!encodes || encodes.reused === 0) return '';
  return `; made now: ${r.images.generated} pictures, ${r.voices?.generated ?? 0} voices, ${encodes.made} of ${r.segments} segments encoded`;
}

/**
 * `reelforge bot` and `reelforge worker`. One queue for every request: the local durable queue, or
 * BullMQ when REDIS_URL is set. Bots take requests; workers run them and notify the chat through
 * the platform's HTTP API, so the two scale apart. Shutdown on SIGINT/SIGTERM is idempotent.
 */
export async function runService(kind: 'bot' | 'worker'): Promise<number> {
  loadDotEnv();
  const config = loadConfig();
  const log = loggerFor(config);
  const takesRequests = kind === 'bot';
  const worksJobs = kind === 'worker' || config.role !== 'bot' || !config.redisUrl;
  if (kind === 'worker' && !config.redisUrl) {
    throw new ReelforgeError('config', 'reelforge worker takes jobs from Redis: set REDIS_URL (without it, "reelforge bot" works jobs itself).');
  }
  if (takesRequests && !config.telegram && !config.discord) {
    throw new ReelforgeError('config', 'No bot is configured: set TELEGRAM_BOT_TOKEN, or DISCORD_BOT_TOKEN and DISCORD_APPLICATION_ID.');
  }
  if (worksJobs) await preflight();

  // A restart while the disk is full waits for room rather than exiting (the journal's lock is written first).
  const warn = (message: string, fields: Record<string, unknown>): void => log.warn(message, fields);
  const rawQueue = await whileDiskFull(
    () =>
      openJobQueue({
        redisUrl: config.redisUrl,
        dataDir: config.dataDir,
        limits: config.limits,
        concurrency: config.concurrency.generation,
        attempts: MAX_ATTEMPTS,
        log: (line) => log.warn(line),
      }),
    { what: 'open the job queue', warn },
  );
  const settings: SettingsStore = config.redisUrl
    ? new RedisSettingsStore({ redis: config.redisUrl })
    : await whileDiskFull(() => FileSettingsStore.open(config.dataDir), { what: 'open the settings file', warn });
  const metrics = config.metrics ? createMetrics() : undefined;
  metrics?.setQueueSource(() => rawQueue.stats());
  // Allow-lists and daily limits are checked (and the estimate booked) here, at enqueue, for every bot.
  const policy: AccessPolicy = { adminIds: config.adminIds, ...config.access };
  const queue = withAdmission(rawQueue, {
    settings,
    policy,
    estimateUsd: requestEstimator(config),
    log,
    ...(metrics ? { onOutcome: (outcome, data) => metrics.job(outcome, { platform: data.owner.platform, tier: data.request.tier ?? 'auto' }) } : {}),
  });
  const connected = new Map<string, boolean>();

  const telegramNotifier = config.telegram
    ? new TelegramNotifier({ token: config.telegram.token, apiRoot: config.telegram.apiRoot, uploadLimitBytes: config.telegram.uploadLimitBytes, log })
    : undefined;
  const discordNotifier = config.discord ? new DiscordNotifier({ token: config.discord.token, apiBase: config.discord.apiBase, log }) : undefined;
  const notifiers = notifierRegistry([telegramNotifier, discordNotifier].filter((n): n is NonNullable<typeof n> => n !== undefined));

  const stops: Array<() => Promise<void>> = [];
  if (config.metrics && metrics) {
    // Readiness says only which part failed: an error's text could name a host or a URL.
    const server = await startMetricsServer({
      port: config.metrics.port,
      host: config.metrics.host,
      metrics,
      checks: {
        queue: () => rawQueue.stats().then(() => true as const, () => 'the queue cannot be reached'),
        settings: () => settings.spend('1970-01-01').then(() => true as const, () => 'the settings store cannot be reached'),
        ...(takesRequests && config.telegram ? { telegram: () => Promise.resolve(connected.get('telegram') ? (true as const) : 'not connected') } : {}),
        ...(takesRequests && config.discord ? { discord: () => Promise.resolve(connected.get('discord') ? (true as const) : 'not connected') } : {}),
      },
    });
    stops.unshift(() => server.close());
    log.info('metrics server listening', { host: config.metrics.host, port: server.port });
  }
  const shutdown = async (): Promise<void> => {
    // Bots first (no new requests), then the queue (running jobs stay journalled and resume on the next start).
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => log.warn('stop failed', { error }));
    await queue.close().catch((error: unknown) => log.warn('queue close failed', { error }));
    await settings.close().catch((error: unknown) => log.warn('settings close failed', { error }));
  };
  // Signals, an unrecoverable bot condition (a rival poller, a revoked token) and, as the last net,
  // an unhandled rejection all end in the same clean shutdown.
  const supervisor = new Supervisor(log);
  const unwatch = supervisor.watchProcess();

  let runtime: Runtime | undefined;
  try {
    if (worksJobs) {
      await sweepStaleWork(join(config.dataDir, 'work'), log);
      // DATA_DIR stays bounded: caches and outputs by age and size, never what a running job uses.
      const pruner = startPruning({
        rules: [
          { dir: join(config.dataDir, 'cache'), ...config.retention.cache },
          { dir: join(config.dataDir, 'out'), ...config.retention.output },
        ],
        inUseMs: IN_USE_MS,
        intervalMs: 15 * 60_000,
        log,
      });
      stops.push(() => pruner.stop());
      runtime = createRuntime(config, log);
      const processor = createVideoJobProcessor({
        render: createJobRender(runtime, settings, config.storyboards.keepMs),
        notifiers,
        assembler: runtime.deps.assembler,
        // A chat's video lives in the chat once sent: the server keeps no copy.
        discard: (paths) => Promise.all(paths.map((path) => rm(path, { force: true }))).then(() => undefined),
        log,
      });
      const recorded = withUsageRecording(processor, settings, { log });
      await queue.work(metrics ? withJobMetrics(recorded, metrics) : recorded);
      log.info('working jobs', { queue: config.redisUrl ? 'redis' : 'local', generation: config.concurrency.generation, renders: config.concurrency.render });
    }

    // The bot writes storyboards with the worker's providers when it works jobs too (one assembler pool).
    const storyboards = takesRequests ? createStoryboardService(config, runtime?.deps ?? createPipelineDeps(config, log), { settings, policy }) : undefined;
    if (takesRequests && config.telegram && telegramNotifier) {
      const telegram = await startTelegramBot({
        ...(storyboards ? { storyboards } : {}),
        token: config.telegram.token,
        apiRoot: config.telegram.apiRoot,
        mode: config.telegram.mode,
        queue,
        settings,
        adminIds: config.adminIds,
        notifier: telegramNotifier,
        uploadLimitBytes: config.telegram.uploadLimitBytes,
        log,
        onFatal: (error) => supervisor.fatal('telegram bot', error),
      });
      stops.push(() => telegram.stop());
      connected.set('telegram', true);
      log.info('telegram bot started', { mode: config.telegram.mode.kind });
    }
    if (takesRequests && config.discord && discordNotifier) {
      const discord = createDiscordBot({
        ...(storyboards ? { storyboards } : {}),
        token: config.discord.token,
        applicationId: config.discord.applicationId,
        apiBase: config.discord.apiBase,
        ...(config.discord.guildId ? { guildId: config.discord.guildId } : {}),
        queue,
        settings,
        adminIds: config.adminIds,
        notifier: discordNotifier,
        log,
        onFatal: (error) => supervisor.fatal('discord bot', error),
      });
      stops.push(() => discord.stop());
      await discord.start();
      connected.set('discord', true);
      log.info('discord bot started');
    }
  } catch (error) {
    // One part failed to start: stop the others, so the process exits instead of taking requests no one works.
    await shutdown();
    unwatch();
    throw error;
  }

  const reason = await supervisor.wait();
  await shutdown();
  unwatch();
  // A fatal condition ends the command with its message (and a non-zero exit) once everything is handed back.
  if (reason.kind === 'fatal') throw reason.error;
  return 0;
}

/**
 * How a worker makes a job's video: the request (the script is written), a given storyboard (an
 * approved /storyboard: no script call) or an earlier job's storyboard with changes (a re-make: the
 * caches make only what the changes made stale). A chat job's storyboard, as rendered, is then kept
 * for `keepMs` so the video can be re-made in part; failing to keep it costs the buttons, not the video.
 */
export function createJobRender(runtime: Runtime, settings: SettingsStore, keepMs: number): RenderVideo {
  return async (data, options) => {
    const plan = await planJob(data, settings);
    const voice = plan.storyboard?.voice;
    let rendered: Storyboard | undefined;
    const output = await runtime.render(plan.request, {
      jobId: options.jobId,
      ...(options.log ? { log: options.log } : {}),
      signal: options.signal,
      onProgress: options.onProgress,
      thumbnail: data.target !== null,
      ...(options.maxBytes ? { maxBytes: options.maxBytes } : {}),
      ...(plan.storyboard ? { script: storyboardScript(plan.storyboard) } : {}),
      ...(voice ? { voice } : {}),
      onScript: (script) => {
        rendered = scriptStoryboard(script, plan.request, voice);
      },
    });
    let remakeable = false;
    if (data.target && rendered) {
      const storyboard = rendered;
      remakeable = await keepStoryboard(settings, options.jobId, { storyboard, owner: data.owner }, keepMs).then(
        () => true,
        (error: unknown) => {
          (options.log ?? runtime.log).warn('could not keep the storyboard for re-makes', { error });
          return false;
        },
      );
    }
    return { ...output, ...(remakeable ? { remakeable } : {}) };
  };
}

/** The voices 🎙 offers: the OpenAI speech voices, or espeak-ng's for the offline voice. */
const OPENAI_VOICES = ['alloy', 'nova', 'onyx', 'shimmer', 'echo'] as const;
const OFFLINE_VOICES = ['en-us', 'en-gb', 'en-us+f3', 'en-gb+m3'] as const;

/**
 * What the bots need for /storyboard: the script writer (one call, after the same allow-list and
 * daily-limit check /video gets), the estimate of a render, the expiry and the voices on offer.
 */
export function createStoryboardService(
  config: Config,
  deps: Pick<PipelineDeps, 'writer' | 'estimateCost' | 'voice' | 'speech'>,
  access: { settings: SettingsStore; policy: AccessPolicy },
): StoryboardService {
  const estimateRequest = requestEstimator(config);
  return {
    async write(request, owner, options = {}) {
      await admitSpend(owner, estimateRequest(request), access);
      const { storyboard, usage } = await writeStoryboard(deps.writer, request, {
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.take ? { take: options.take } : {}),
        // Sized for the voice that will speak it, as the CLI's storyboard and every render are.
        ...(deps.speech.wordsPerSecond ? { wordsPerSecond: deps.speech.wordsPerSecond(request.lang) } : {}),
      });
      const scriptUsd = deps.estimateCost?.({ llm: usage, imagesGenerated: 0, width: 0, height: 0, ttsCharacters: 0 }) ?? 0;
      return { storyboard, scriptUsd };
    },
    // The assembler runs at ~2x realtime at 1080x1920 (README, Performance); pictures and voices
    // overlap it. A rough "about N min" for the message, not a promise: the queue adds its own wait.
    estimate: (storyboard) => ({ usd: estimateStoryboardCost(storyboard, deps), sec: Math.round(storyboard.seconds / 2) + 30 }),
    expireMs: config.storyboards.expireMs,
    voices: deps.speech.offline ? OFFLINE_VOICES : OPENAI_VOICES,
  };
}

/**
 * Twice the time limit of the longest job (and at least 2 h): a file used this recently may belong to
 * a running job and is never pruned, and a work folder this old was left by a crash.
 */
const IN_USE_MS = Math.max(2 * 3600_000, 2 * jobTimeLimitMs(MAX_DURATION_SEC));

/** Work folders older than a job can last were left by a crash (a finished job removes its own). */
async function sweepStaleWork(workRoot: string, log: Logger, maxAgeMs = IN_USE_MS): Promise<void> {
  const entries = await readdir(workRoot, { withFileTypes: true }).catch(() => []);
  const now = Date.now();
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const path = join(workRoot, entry.name);
    const info = await stat(path).catch(() => undefined);
    if (info && now - info.mtimeMs > maxAgeMs) {
      await rm(path, { recursive: true, force: true });
      log.info('removed a stale work folder', { path });
    }
  }
}

/** Tries per job: retryable failures (a provider outage) are retried with backoff, others fail at once. */
const MAX_ATTEMPTS = 3;
