/**
 * The fault soak (issue 11): many short /video requests from many users and chats, through the real
 * queues, the real grammY bot and the OpenAI providers, while faults of every class are injected at
 * set rates. It counts, per request, what the chat saw: a video, a clear failure message, or nothing.
 *
 *   npm run bench -- --only soak [--jobs 220] [--fault-rate 0.12] [--seed soak] [--minutes 6]
 *
 * Four lanes share one fake OpenAI server, one redis-server (append-only, fsync always) and one
 * small tmpfs for every DATA_DIR (when this runs as root; otherwise the disk class is skipped):
 * - `reelforge bot` as a child process on the local durable queue (SIGKILLed and restarted);
 * - `reelforge bot` (ROLE=bot) and two `reelforge worker` processes on BullMQ (each SIGKILLed at
 *   random moments and restarted; Redis itself crashes and restarts);
 * - in this process: the real grammY bot, the LocalJobQueue, the video-job processor and the
 *   TelegramNotifier, with the real pipeline on the OpenAI providers; most jobs use the in-memory
 *   assembler (the upload is its small JSON "video"), a share are rendered by ffmpeg at 270x480;
 * - the same in this process on BullMQ.
 * The child processes render every job with ffmpeg at 1080x1920, so they get the 10-12 s jobs.
 *
 * Faults: provider (429 with retry-after, 500, a stall before headers, a stall mid-body, invalid
 * JSON, garbage image bytes, silent speech) and chat platform (429 with retry_after, 500/502, a
 * timeout that drops the connection unprocessed) on each call with probability `faultRate`; a
 * deleted progress message and the bot removed from a group (403) by the soak's users; SIGKILLs
 * and Redis crashes; the tmpfs filled to ENOSPC for a few seconds at random moments.
 */
import { randomBytes } from 'node:crypto';
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { ERROR_CODES, ReelforgeError } from '../src/core/errors.js';
import { botTexts } from '../src/bots/shared/i18n.js';
import { startTelegramBot, type RunningTelegramBot } from '../src/bots/telegram/run.js';
import { TelegramNotifier } from '../src/bots/telegram/notifier.js';
import { loadConfig } from '../src/config.js';
import { createVideoJobProcessor, notifierRegistry } from '../src/jobs/video-job.js';
import type { Logger } from '../src/log.js';
import { createRuntime } from '../src/main.js';
import { FfmpegAssembler } from '../src/providers/ffmpeg/assembler.js';
import { MemoryAssembler } from '../src/providers/memory/index.js';
import { openJobQueue } from '../src/queue/open-queue.js';
import type { JobQueue } from '../src/queue/types.js';
import { RedisSettingsStore } from '../src/redis/settings-store.js';
import { FileSettingsStore } from '../src/store/file-settings-store.js';
import { withUsageRecording } from '../src/store/record-usage.js';
import type { SettingsStore } from '../src/store/settings.js';
import { FakeOpenAiServer, type Endpoint, type Fault } from '../test/fakes/openai-server.js';
import { FakeTelegramServer, type FakeChat, type FakeUser, type StoredMessage, type TelegramFault } from '../test/fakes/telegram-server.js';
import { startRedisServer, type RedisServer } from '../test/helpers/redis-server.js';
import { startReelforge, type Service } from '../test/helpers/reelforge-process.js';
import { percentile, printTable, round } from './table.js';
import { smallAssembler } from './small-assembler.js';

const run = promisify(execFile);

export interface SoakOptions {
  /** Requests sent in all. */
  jobs?: number;
  /** Probability of a fault on each provider call and each chat API call. */
  faultRate?: number;
  seed?: string;
  /** Minutes over which the requests arrive. */
  minutes?: number;
  /** A request with no end (video or failure message) this long after it was sent is hung. */
  deadlineSec?: number;
  /** Share of the requests that go to the child-process lanes (full-size ffmpeg renders). */
  procShare?: number;
  /** Share of the in-process requests rendered by ffmpeg (270x480) instead of the in-memory assembler. */
  ffmpegShare?: number;
  /** Hard bound on the whole soak. */
  maxMinutes?: number;
  /** Where to keep each child process's whole output (every run, in order) for a post-mortem. */
  logDir?: string;
  log?: (line: string) => void;
}

interface LaneFigures {
  lane: string;
  queue: string;
  render: string;
  jobs: number;
  videos: number;
  failures: number;
  chatGone: number;
  lost: number;
  twice: number;
  hung: number;
}

export interface SoakResult {
  options: Required<Omit<SoakOptions, 'log' | 'logDir'>>;
  seconds: number;
  jobs: number;
  lanes: LaneFigures[];
  faults: Record<string, Record<string, number>>;
  faultsByClass: Record<string, number>;
  /** Provider and chat API calls that could have had a fault, and the share that did. */
  faultableCalls: number;
  faultedCalls: number;
  overallFaultRate: number;
  videos: number;
  renderedByFfmpeg: number;
  failuresAnswered: number;
  failureReasons: Record<string, number>;
  /** Requests in a chat the bot was removed from: no answer is possible; counted apart. */
  chatGone: number;
  lost: number;
  /** Of the lost/hung: the progress message still showed a place in line or a running stage at the end (the job exists; it had not finished by the deadline). */
  stillWaitingAtEnd: number;
  /** Of the lost: not a single reply in the chat (the request left no trace). */
  lostWithoutReply: number;
  deliveredTwice: number;
  hung: number;
  paidCallsRepeated: number;
  paidCallsRepeatedAfterResume: number;
  /** The repeated calls by endpoint (chat/completions, images/generations, audio/speech, audio/transcriptions). */
  paidCallsRepeatedBy: Record<string, number>;
  firstReply: { p50Ms: number; p99Ms: number; maxMs: number; noReply: number };
  unexpectedExits: string[];
  diskFaults: 'tmpfs' | 'skipped (not root)';
  /** Event-loop delay of this process (the in-process bots, queues and fakes share it). */
  eventLoopLag: { p99Ms: number; maxMs: number };
  examples: string[];
}

// ---------------------------------------------------------------- randomness

function rngFrom(seed: string): () => number {
  let h = 2166136261;
  for (const ch of seed) h = Math.imul(h ^ ch.codePointAt(0)!, 16777619);
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Chaos {
  readonly faults: Record<string, Record<string, number>> = { provider: {}, chat: {}, process: {}, disk: {} };
  faultable = 0;
  faulted = 0;
  constructor(
    readonly random: () => number,
    readonly rate: number,
  ) {}
  between(min: number, max: number): number {
    return min + this.random() * (max - min);
  }
  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)]!;
  }
  count(kind: keyof Chaos['faults'], what: string): void {
    const bucket = this.faults[kind]!;
    bucket[what] = (bucket[what] ?? 0) + 1;
  }
  /** One faultable call: true when it gets a fault. */
  roll(): boolean {
    this.faultable++;
    if (this.random() >= this.rate) return false;
    this.faulted++;
    return true;
  }
}

const PROVIDER_FAULTS: Record<Endpoint, Fault['kind'][]> = {
  chat: ['rate_limit', 'server_error', 'hang_before_headers', 'stall', 'invalid_json'],
  images: ['rate_limit', 'server_error', 'hang_before_headers', 'hang_mid_body', 'invalid_json', 'garbage_image'],
  speech: ['rate_limit', 'server_error', 'hang_before_headers', 'hang_mid_body', 'silent_speech'],
  transcription: ['rate_limit', 'server_error', 'hang_before_headers'],
};

function providerPlan(chaos: Chaos): (endpoint: Endpoint) => Fault | undefined {
  return (endpoint) => {
    if (!chaos.roll()) return undefined;
    const kind = chaos.pick(PROVIDER_FAULTS[endpoint]);
    chaos.count('provider', `${endpoint} ${kind}`);
    if (kind === 'rate_limit') return { kind, retryAfter: String(1 + Math.floor(chaos.random() * 2)) };
    if (kind === 'server_error') return { kind, status: chaos.pick([500, 502, 503]) };
    return { kind };
  };
}

/** Calls a chat makes about a request: the ones that get platform faults (not getUpdates, getMe, menus). */
const CHAT_METHODS = new Set(['sendMessage', 'editMessageText', 'sendVideo', 'deleteMessage', 'sendChatAction', 'answerCallbackQuery']);

function chatPlan(chaos: Chaos): (method: string) => TelegramFault | undefined {
  return (method) => {
    if (!CHAT_METHODS.has(method) || !chaos.roll()) return undefined;
    const kind = chaos.pick(['429', '5xx', 'timeout'] as const);
    chaos.count('chat', `${method} ${kind}`);
    if (kind === '429') {
      const after = 1 + Math.floor(chaos.random() * 3);
      return { error_code: 429, description: `Too Many Requests: retry after ${after}`, parameters: { retry_after: after } };
    }
    if (kind === '5xx') {
      return chaos.pick([
        { error_code: 500, description: 'Internal Server Error' },
        { error_code: 502, description: 'Bad Gateway' },
      ]);
    }
    return { timeoutMs: Math.round(chaos.between(3000, 15_000)) };
  };
}

// ---------------------------------------------------------------- what a chat saw

const FAILURE_TEXTS = new Set(
  (['en', 'ru'] as const).flatMap((locale) => ERROR_CODES.map((code) => botTexts(locale).error(new ReelforgeError(code, code)))),
);

function failureText(text: string | undefined): boolean {
  return text !== undefined && (FAILURE_TEXTS.has(text) || /larger than this chat accepts|больше, чем принимает/.test(text));
}

interface Request {
  n: number;
  lane: Lane;
  user: FakeUser;
  chat: FakeChat;
  durationSec: number;
  topic: string;
  ffmpeg: boolean;
  sentAt: number;
  messageId: number;
  firstReplyAt?: number;
  endAt?: number;
  videos: number;
  failure?: string;
  chatGone: boolean;
  progressDeleted: boolean;
  /** A process of its lane was killed (or Redis crashed) while it was open. */
  interrupted: boolean;
}

function repliesTo(fake: FakeTelegramServer, chatId: number, messageId: number): StoredMessage[] {
  return fake.botMessages(chatId).filter((m) => m.replyToMessageId === messageId);
}

function observe(request: Request): void {
  const replies = repliesTo(request.lane.fake, request.chat.id, request.messageId);
  if (replies.length > 0 && request.firstReplyAt === undefined) request.firstReplyAt = Math.min(...replies.map((m) => m.versions[0]!.at));
  request.videos = replies.filter((m) => m.upload?.method === 'sendVideo' || m.video !== undefined).length;
  const failed = replies.map((m) => m.versions.at(-1)?.text).find((text) => failureText(text));
  if (failed && !request.failure) request.failure = failed;
  if (request.endAt === undefined && (request.videos > 0 || request.failure)) request.endAt = Date.now();
}

// ---------------------------------------------------------------- lanes

interface Lane {
  name: string;
  queue: 'local' | 'bullmq';
  render: string;
  process: boolean;
  fake: FakeTelegramServer;
  groups: FakeChat[];
  /** Child processes that can be killed (process lanes). */
  services: ManagedService[];
  stop(): Promise<void>;
}

/** A child process under a restart policy: restarted after a SIGKILL or an unexpected exit. */
class ManagedService {
  service: Service | undefined;
  private stopping = false;
  killedByUs = 0;
  readonly unexpected: string[] = [];
  private tail = '';
  /** Output of the runs that ended (each run's output is kept by its Service). */
  readonly pastOutputs: string[] = [];

  constructor(
    readonly name: string,
    private readonly args: string[],
    private readonly env: Record<string, string>,
    private readonly children: ChildProcess[],
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    const service = startReelforge(this.args, this.env, this.children);
    this.service = service;
    service.child.once('exit', (code, signal) => {
      const output = service.output();
      this.tail = output.slice(-3000);
      this.pastOutputs.push(output);
      if (this.stopping) return;
      const ours = signal === 'SIGKILL' && this.pendingKill;
      this.pendingKill = false;
      if (!ours) {
        const line = `${this.name} exited by itself (code ${code ?? '-'}, signal ${signal ?? '-'}): ${lastLines(output, 6)}`;
        this.unexpected.push(line);
        this.log(`soak: ${line}`);
      }
      const delay = ours ? 300 + Math.random() * 1700 : 1000;
      setTimeout(() => {
        if (!this.stopping) this.start();
      }, delay).unref();
    });
  }

  private pendingKill = false;

  kill(): boolean {
    const child = this.service?.child;
    if (!child || child.exitCode !== null || child.signalCode !== null || this.pendingKill) return false;
    this.pendingKill = true;
    this.killedByUs++;
    child.kill('SIGKILL');
    return true;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.service?.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  output(): string {
    return this.service?.output() ?? this.tail;
  }
}

/** A log line without its time, ids and numbers, so lines of one kind count together. */
function normalize(line: string): string {
  return line
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z\s*/g, '')
    .replace(/\b(j[0-9a-f]{8,}|[0-9a-f]{8,})\b/g, '<id>')
    .replace(/\d+/g, 'N')
    .slice(0, 400);
}

/** The most frequent warning and error lines in a child's output. */
function countLines(output: string, into: Map<string, number>, prefix: string): void {
  for (const line of output.split('\n')) {
    if (!/warn|error|fail|unhandled|exception/i.test(line)) continue;
    if (line.includes('"level":"info"')) continue; // kept with --log-dir, not counted
    const key = normalize(`${prefix}: ${line.trim()}`);
    into.set(key, (into.get(key) ?? 0) + 1);
  }
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ').slice(0, 1200);
}

function groupsFor(fake: FakeTelegramServer, base: number): FakeChat[] {
  return [
    fake.group(-(base + 1), 'History club'),
    fake.group(-(base + 2), 'Film makers', { supergroup: true }),
    fake.group(-(base + 3), 'Teachers room'),
    fake.group(-(base + 4), 'Weekend stories', { supergroup: true }),
  ];
}

interface Shared {
  openai: FakeOpenAiServer;
  redisUrl: string;
  diskRoot: string;
  chaos: Chaos;
  children: ChildProcess[];
  log: (line: string) => void;
  ffmpegTopics: Set<string>;
  warnings: Map<string, number>;
  /** The child processes' log level: `info` when their logs are kept (--log-dir), else `warn`. */
  childLogLevel: 'info' | 'warn';
}

async function processLocalLane(shared: Shared): Promise<Lane> {
  const fake = await FakeTelegramServer.start();
  fake.faultPlan = chatPlan(shared.chaos);
  const env = {
    TELEGRAM_BOT_TOKEN: fake.token,
    TELEGRAM_API_ROOT: fake.apiRoot,
    OPENAI_BASE_URL: shared.openai.baseURL,
    // One key per lane: the soak tells each lane's paid calls apart by it.
    OPENAI_API_KEY: 'sk-soak-proc-local',
    DATA_DIR: join(shared.diskRoot, 'proc-local'),
    LOG_LEVEL: shared.childLogLevel,
    GENERATION_CONCURRENCY: '2',
    RENDER_CONCURRENCY: '1',
  };
  const bot = new ManagedService('reelforge bot (local queue)', ['bot'], env, shared.children, shared.log);
  bot.start();
  return {
    name: 'reelforge bot, local queue',
    queue: 'local',
    render: 'ffmpeg 1080x1920',
    process: true,
    fake,
    groups: groupsFor(fake, 1_000_000_100),
    services: [bot],
    stop: async () => {
      await bot.stop();
      await fake.close();
    },
  };
}

async function processRedisLane(shared: Shared): Promise<Lane> {
  const fake = await FakeTelegramServer.start();
  fake.faultPlan = chatPlan(shared.chaos);
  const common = {
    TELEGRAM_BOT_TOKEN: fake.token,
    TELEGRAM_API_ROOT: fake.apiRoot,
    OPENAI_BASE_URL: shared.openai.baseURL,
    OPENAI_API_KEY: 'sk-soak-proc-redis',
    REDIS_URL: shared.redisUrl,
    LOG_LEVEL: shared.childLogLevel,
    GENERATION_CONCURRENCY: '2',
    RENDER_CONCURRENCY: '1',
  };
  const services = [
    new ManagedService('reelforge bot (ROLE=bot)', ['bot'], { ...common, ROLE: 'bot', DATA_DIR: join(shared.diskRoot, 'proc-redis-bot') }, shared.children, shared.log),
    ...['a', 'b'].map(
      (name) =>
        new ManagedService(`reelforge worker ${name}`, ['worker'], { ...common, ROLE: 'worker', DATA_DIR: join(shared.diskRoot, `proc-redis-worker-${name}`) }, shared.children, shared.log),
    ),
  ];
  for (const s of services) s.start();
  return {
    name: 'reelforge bot + 2 workers, BullMQ',
    queue: 'bullmq',
    render: 'ffmpeg 1080x1920',
    process: true,
    fake,
    groups: groupsFor(fake, 1_000_000_200),
    services,
    stop: async () => {
      await Promise.all(services.map((s) => s.stop()));
      await fake.close();
    },
  };
}

function quietLogger(shared: Shared, lane: string): Logger {
  const note = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    const error = fields?.error instanceof Error ? fields.error : undefined;
    const errorCode = error ? (error as { code?: unknown }).code : undefined;
    const causes: string[] = [];
    for (let c: unknown = error?.cause; c instanceof Error && causes.length < 3; c = c.cause) causes.push(`cause: ${c.name}: ${c.message}`);
    const detail = [fields?.code, fields?.message, fields?.cause, fields?.error, errorCode, error?.message, ...causes]
      .filter((v): v is string => typeof v === 'string')
      .join(' / ');
    const key = normalize(`${lane} ${level}: ${message}${detail ? ` (${detail})` : ''}`);
    shared.warnings.set(key, (shared.warnings.get(key) ?? 0) + 1);
  };
  const logger: Logger = { debug: () => undefined, info: () => undefined, warn: note('warn'), error: note('error'), child: () => logger };
  return logger;
}

async function inProcessLane(shared: Shared, queueKind: 'local' | 'bullmq'): Promise<Lane> {
  const name = queueKind === 'local' ? 'in-process' : 'in-process-redis';
  const dataDir = join(shared.diskRoot, name);
  await mkdir(dataDir, { recursive: true });
  const fake = await FakeTelegramServer.start();
  fake.faultPlan = chatPlan(shared.chaos);
  const config = loadConfig({
    OPENAI_BASE_URL: shared.openai.baseURL,
    OPENAI_API_KEY: `sk-soak-${name}`,
    TELEGRAM_BOT_TOKEN: fake.token,
    TELEGRAM_API_ROOT: fake.apiRoot,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    ...(queueKind === 'bullmq' ? { REDIS_URL: shared.redisUrl } : {}),
  });
  const logger = quietLogger(shared, name);
  const memory = createRuntime(config, logger, { assembler: new MemoryAssembler() });
  const small = createRuntime(config, logger, { assembler: smallAssembler(new FfmpegAssembler({ renderConcurrency: 1 })) });
  const queue: JobQueue = await openJobQueue({
    redisUrl: config.redisUrl,
    dataDir,
    limits: config.limits,
    concurrency: 4,
    attempts: 3,
    name: 'soak-in-process',
    log: (line) => logger.warn(line),
  });
  const settings: SettingsStore = config.redisUrl ? new RedisSettingsStore({ redis: config.redisUrl }) : await FileSettingsStore.open(dataDir);
  const notifier = new TelegramNotifier({ token: fake.token, apiRoot: fake.apiRoot, log: logger });
  const processor = createVideoJobProcessor({
    render: (data, options) => {
      const ffmpeg = shared.ffmpegTopics.has(data.request.topic);
      return (ffmpeg ? small : memory).render(data.request, {
        jobId: options.jobId,
        signal: options.signal,
        onProgress: options.onProgress,
        thumbnail: ffmpeg,
        ...(options.maxBytes ? { maxBytes: options.maxBytes } : {}),
      });
    },
    notifiers: notifierRegistry([notifier]),
    discard: (paths) => Promise.all(paths.map((path) => rm(path, { force: true }))).then(() => undefined),
    log: logger,
  });
  await queue.work(withUsageRecording(processor, settings, { log: logger }));
  const running: RunningTelegramBot = await startTelegramBot({
    token: fake.token,
    apiRoot: fake.apiRoot,
    mode: { kind: 'polling', timeoutSec: 10 },
    queue,
    settings,
    adminIds: new Set(),
    notifier,
    log: logger,
  });
  return {
    name: queueKind === 'local' ? 'in-process grammY, local queue' : 'in-process grammY, BullMQ',
    queue: queueKind,
    render: 'in-memory, a share ffmpeg 270x480',
    process: false,
    fake,
    groups: groupsFor(fake, queueKind === 'local' ? 1_000_000_300 : 1_000_000_400),
    services: [],
    stop: async () => {
      await running.stop().catch(() => undefined);
      await queue.close().catch(() => undefined);
      await notifier.idle().catch(() => undefined);
      await settings.close().catch(() => undefined);
      await fake.close();
    },
  };
}

// ---------------------------------------------------------------- disk and process faults

async function mountTmpfs(dir: string, sizeMb: number): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir]);
    return true;
  } catch {
    return false;
  }
}

/** Fills the filesystem to the last byte, so every write there fails with ENOSPC, for `holdMs`. */
async function fillDisk(dir: string, holdMs: number): Promise<number> {
  const path = join(dir, `.ballast-${randomBytes(4).toString('hex')}`);
  const handle = await open(path, 'w');
  const chunk = Buffer.alloc(1 << 20);
  let written = 0;
  try {
    for (;;) {
      try {
        const { bytesWritten } = await handle.write(chunk);
        written += bytesWritten;
        if (bytesWritten < chunk.length) break;
      } catch {
        break;
      }
    }
    // The last free blocks, below a whole chunk.
    for (let size = 1 << 19; size >= 512; size >>= 1) {
      try {
        await handle.write(chunk.subarray(0, size));
      } catch {
        // full at this size; try a smaller one
      }
    }
    await new Promise((resolve) => setTimeout(resolve, holdMs));
  } finally {
    await handle.close().catch(() => undefined);
    await rm(path, { force: true });
  }
  return written;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------- the soak

export async function benchSoak(input: SoakOptions = {}): Promise<SoakResult> {
  const options: SoakResult['options'] = {
    jobs: input.jobs ?? 220,
    faultRate: input.faultRate ?? 0.12,
    seed: input.seed ?? 'soak',
    minutes: input.minutes ?? 6,
    deadlineSec: input.deadlineSec ?? 240,
    procShare: input.procShare ?? 0.2,
    ffmpegShare: input.ffmpegShare ?? 0.2,
    maxMinutes: input.maxMinutes ?? 25,
  };
  const log = input.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const chaos = new Chaos(rngFrom(options.seed), options.faultRate);
  const started = Date.now();
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  const hardStop = started + options.maxMinutes * 60_000;

  const root = await mkdtemp(join(tmpdir(), 'reelforge-soak-'));
  const diskRoot = join(root, 'disk');
  await mkdir(diskRoot, { recursive: true });
  const tmpfs = await mountTmpfs(diskRoot, 1024);
  const redisDir = join(root, 'redis');
  await mkdir(redisDir, { recursive: true });
  let redis: RedisServer = await startRedisServer({ dir: redisDir, persist: true });
  const openai = await FakeOpenAiServer.start({ imageScale: 0.25, latency: { tokensPerSec: 400, imageSec: 0.3, speechSec: 0.2 } });
  openai.faultPlan = providerPlan(chaos);

  const shared: Shared = {
    openai,
    redisUrl: redis.url,
    diskRoot,
    chaos,
    children: [],
    log,
    ffmpegTopics: new Set(),
    warnings: new Map(),
    childLogLevel: input.logDir ? 'info' : 'warn',
  };
  const lanes: Lane[] = [];
  const requests: Request[] = [];
  const kills: Array<{ at: number; lanes: Lane[] }> = [];
  let running = true;
  const loops: Promise<void>[] = [];

  try {
    lanes.push(await processLocalLane(shared), await processRedisLane(shared), await inProcessLane(shared, 'local'), await inProcessLane(shared, 'bullmq'));
    const [procLocal, procRedis, inLocal, inRedis] = lanes as [Lane, Lane, Lane, Lane];
    log(`soak: ${options.jobs} requests over ${options.minutes} min, fault rate ${options.faultRate}, seed "${options.seed}", DATA_DIRs on ${tmpfs ? 'a 1 GB tmpfs' : 'the normal disk (not root: no disk faults)'}`);
    // Let the processes connect before the clock starts.
    await sleep(4000);
    const window = options.minutes * 60_000;

    // Process faults: a random process of a process lane is SIGKILLed every 20-45 s.
    loops.push(
      (async () => {
        while (running) {
          await sleep(chaos.between(20_000, 45_000));
          if (!running) break;
          const all = [procLocal, procRedis].flatMap((lane) => lane.services.map((service) => ({ lane, service })));
          const victim = chaos.pick(all);
          if (victim.service.kill()) {
            chaos.count('process', `SIGKILL ${victim.service.name.replace(/ \(.*\)$/, '').replace(/ [ab]$/, '')}`);
            kills.push({ at: Date.now(), lanes: [victim.lane] });
          }
        }
      })(),
    );
    // Redis crashes (SIGKILL; append-only, fsync always) at about a third and two thirds of the window.
    loops.push(
      (async () => {
        for (const share of [0.35, 0.7]) {
          const at = started + 4000 + window * share + chaos.between(-10_000, 10_000);
          while (running && Date.now() < at) await sleep(500);
          if (!running) break;
          await redis.crash();
          chaos.count('process', 'Redis crash + restart');
          kills.push({ at: Date.now(), lanes: [procRedis, inRedis] });
          await sleep(chaos.between(1000, 3000));
          redis = await startRedisServer({ port: redis.port, dir: redisDir, persist: true });
        }
      })(),
    );
    // Disk faults: the shared tmpfs filled to ENOSPC for 1-4 s, every 15-35 s.
    if (tmpfs) {
      loops.push(
        (async () => {
          while (running) {
            await sleep(chaos.between(15_000, 35_000));
            if (!running) break;
            chaos.count('disk', 'ENOSPC window (tmpfs full)');
            await fillDisk(diskRoot, chaos.between(1000, 4000)).catch((error: unknown) => log(`soak: could not fill the disk: ${String(error)}`));
          }
        })(),
      );
    }

    // Users and their requests.
    const users: FakeUser[] = Array.from({ length: Math.max(40, Math.ceil(options.jobs * 0.6)) }, (_, i) => ({
      id: 70_000 + i,
      first_name: `User ${i}`,
      language_code: i % 4 === 0 ? 'ru' : 'en',
    }));
    const busy = new Map<Lane, Set<number>>(lanes.map((lane) => [lane, new Set<number>()]));
    const removedGroups = new Set<number>();
    const gap = window / options.jobs;
    const inProcDurations = [10, 10, 12, 15, 15, 20, 30, 45, 60];

    const monitor = (async () => {
      while (running) {
        for (const request of requests) {
          if (request.chatGone) continue;
          observe(request);
          if (request.endAt !== undefined) busy.get(request.lane)?.delete(request.user.id);
        }
        await sleep(200);
      }
    })();
    loops.push(monitor);

    // Arrival times fixed up front on the wall clock, so a busy event loop does not stretch the window.
    const arrivals: number[] = [];
    for (let n = 0, t = Date.now(); n < options.jobs; n++, t += chaos.between(0.2, 1.8) * gap) arrivals.push(t);
    for (let n = 0; n < options.jobs && Date.now() < hardStop; n++) {
      const wait = arrivals[n]! - Date.now();
      if (wait > 0) await sleep(wait);
      const roll = chaos.random();
      const lane = roll < options.procShare / 2 ? procLocal : roll < options.procShare ? procRedis : chaos.random() < 0.6 ? inLocal : inRedis;
      const laneBusy = busy.get(lane)!;
      const free = users.filter((u) => !laneBusy.has(u.id));
      const user = chaos.pick(free.length > 0 ? free : users);
      laneBusy.add(user.id);
      const openGroups = lane.groups.filter((g) => !removedGroups.has(g.id));
      const chat = chaos.random() < 0.25 && openGroups.length > 0 ? chaos.pick(openGroups) : lane.fake.privateChat(user);
      const durationSec = lane.process ? chaos.pick([10, 10, 12]) : chaos.pick(inProcDurations);
      const ffmpeg = !lane.process && durationSec <= 15 && chaos.random() < options.ffmpegShare / 0.55;
      const topic = `${chaos.pick(['The history of tea', 'How bridges stand', 'The fall of Constantinople', 'Why cats purr', 'The first lighthouse', 'Пётр I и флот'])}, part ${n + 1}`;
      if (ffmpeg) shared.ffmpegTopics.add(topic);
      const message = lane.fake.sendUserMessage(chat, user, `/video ${durationSec} ${topic}`);
      const request: Request = {
        n,
        lane,
        user,
        chat,
        durationSec,
        topic,
        ffmpeg,
        sentAt: message.versions[0]!.at,
        messageId: message.messageId,
        videos: 0,
        chatGone: false,
        progressDeleted: false,
        interrupted: false,
      };
      requests.push(request);

      // A user deletes the progress message (5 %) a little after it appears.
      if (chaos.random() < 0.05) {
        const wait = chaos.between(500, 6000);
        loops.push(
          (async () => {
            const reply = await lane.fake
              .waitFor(() => repliesTo(lane.fake, chat.id, message.messageId).find((m) => !m.upload), options.deadlineSec * 1000, 'a progress message')
              .catch(() => undefined);
            if (!reply) return;
            await sleep(wait);
            if (request.endAt !== undefined || reply.deleted) return;
            lane.fake.deleteAsUser(chat.id, reply.messageId);
            request.progressDeleted = true;
            chaos.count('chat', 'progress message deleted by a user');
          })(),
        );
      }
      // Once per lane, about halfway, the bot is removed from a group that has a job running.
      if (chat.id < 0 && !removedGroups.has(chat.id) && n > options.jobs * 0.4 && ![...removedGroups].some((id) => lane.groups.some((g) => g.id === id))) {
        removedGroups.add(chat.id);
        loops.push(
          (async () => {
            await lane.fake
              .waitFor(() => repliesTo(lane.fake, chat.id, message.messageId)[0], options.deadlineSec * 1000, 'a first reply')
              .catch(() => undefined);
            await sleep(chaos.between(500, 3000));
            lane.fake.removeBot(chat.id);
            chaos.count('chat', 'bot removed from a group (403)');
            for (const r of requests) if (r.chat.id === chat.id && r.lane === lane && r.endAt === undefined) r.chatGone = true;
          })(),
        );
      }
    }
    log(`soak: all ${requests.length} requests sent after ${round((Date.now() - started) / 1000, 0)} s; waiting for their ends`);

    // Until every request has ended (or its deadline passed), then a settle time for late duplicates.
    const last = (r: Request): number => r.sentAt + options.deadlineSec * 1000;
    for (;;) {
      const open = requests.filter((r) => r.endAt === undefined && !r.chatGone && Date.now() < last(r));
      if (open.length === 0 || Date.now() > hardStop) break;
      await sleep(1000);
    }
    log('soak: settling 20 s for late or repeated deliveries');
    await sleep(20_000);
    for (const r of requests) observe(r);
  } finally {
    running = false;
    // Everything stops even if one part fails to.
    await Promise.allSettled(lanes.map((lane) => lane.stop()));
    openai.faultPlan = undefined;
    await openai.close();
    await Promise.allSettled(loops);
    await redis.stop();
    if (tmpfs) await run('umount', ['-l', diskRoot]).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  }

  // Which requests were open while their lane lost a process (or Redis).
  for (const r of requests) {
    const end = r.endAt ?? Infinity;
    r.interrupted = kills.some((k) => k.lanes.includes(r.lane) && k.at >= r.sentAt && k.at <= end);
  }
  loopDelay.disable();
  for (const lane of lanes) for (const service of lane.services) countLines(service.pastOutputs.join('\n'), shared.warnings, service.name);
  if (input.logDir) {
    await mkdir(input.logDir, { recursive: true });
    for (const lane of lanes) {
      for (const service of lane.services) {
        const file = join(input.logDir, `${service.name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '')}.log`);
        await writeFile(file, service.pastOutputs.join('\n----- restarted -----\n'));
      }
    }
    log(`soak: child process logs in ${input.logDir}`);
  }
  const lag = { p99Ms: round(loopDelay.percentile(99) / 1e6, 0), maxMs: round(loopDelay.max / 1e6, 0) };
  return summarize(options, started, requests, lanes, chaos, openai, shared, tmpfs, lag);
}

function summarize(
  options: SoakResult['options'],
  started: number,
  requests: Request[],
  lanes: Lane[],
  chaos: Chaos,
  openai: FakeOpenAiServer,
  shared: Shared,
  tmpfs: boolean,
  lag: SoakResult['eventLoopLag'],
): SoakResult {
  const deadline = options.deadlineSec * 1000;
  const isLost = (r: Request): boolean => !r.chatGone && r.videos === 0 && !r.failure;
  const isHung = (r: Request): boolean => !r.chatGone && (r.endAt === undefined || r.endAt - r.sentAt > deadline);
  const laneFigures: LaneFigures[] = lanes.map((lane) => {
    const mine = requests.filter((r) => r.lane === lane);
    return {
      lane: lane.name,
      queue: lane.queue,
      render: lane.render,
      jobs: mine.length,
      videos: mine.filter((r) => r.videos > 0).length,
      failures: mine.filter((r) => r.videos === 0 && r.failure).length,
      chatGone: mine.filter((r) => r.chatGone).length,
      lost: mine.filter(isLost).length,
      twice: mine.filter((r) => r.videos > 1).length,
      hung: mine.filter(isHung).length,
    };
  });

  // Paid calls: a provider request identical to one the same lane (its API key) already had answered
  // in full (200, no fault). Another lane is another deployment with its own caches.
  const seen = new Map<string, number>();
  let repeated = 0;
  let repeatedAfterResume = 0;
  const repeatedBy: Record<string, number> = {};
  const interruptedTopics = new Set(requests.filter((r) => r.interrupted).map((r) => r.topic));
  for (const entry of openai.requests) {
    if (entry.status !== 200 || entry.closedEarly || entry.fault || entry.method !== 'POST') continue;
    const key = `${entry.authorization ?? ''} ${entry.path} ${JSON.stringify(entry.body)}`;
    const times = (seen.get(key) ?? 0) + 1;
    seen.set(key, times);
    if (times > 1) {
      repeated++;
      const endpoint = entry.path.replace(/^\/v1\//, '');
      repeatedBy[endpoint] = (repeatedBy[endpoint] ?? 0) + 1;
      const text = JSON.stringify(entry.body);
      if ([...interruptedTopics].some((topic) => text.includes(topic))) repeatedAfterResume++;
    }
  }

  const latencies = requests.filter((r) => r.firstReplyAt !== undefined).map((r) => r.firstReplyAt! - r.sentAt);
  const failureReasons: Record<string, number> = {};
  for (const r of requests) if (r.videos === 0 && r.failure) failureReasons[r.failure] = (failureReasons[r.failure] ?? 0) + 1;
  const faultsByClass = Object.fromEntries(Object.entries(chaos.faults).map(([k, v]) => [k, Object.values(v).reduce((a, b) => a + b, 0)]));
  const examples = requests
    .filter((r) => isLost(r) || isHung(r) || r.videos > 1)
    .slice(0, 12)
    .map((r) => {
      const replies = repliesTo(r.lane.fake, r.chat.id, r.messageId).map((m) => `${m.upload ? m.upload.method : 'text'}${m.deleted ? ' (deleted)' : ''}: ${(m.versions.at(-1)?.text ?? m.versions.at(-1)?.caption ?? '').replace(/\s+/g, ' ').slice(0, 80)}`);
      const calls = r.lane.fake.calls.filter((c) => Number(c.params.chat_id) === r.chat.id && c.status !== 200).map((c) => `${c.method} ${c.status}`);
      return `#${r.n} ${r.lane.name}, chat ${r.chat.id}, ${r.durationSec} s${r.interrupted ? ', interrupted' : ''}${r.progressDeleted ? ', progress deleted' : ''}: videos ${r.videos}; replies [${replies.join(' / ')}]; failed calls in chat [${calls.slice(-6).join(', ')}]`;
    });
  const unexpectedExits = lanes.flatMap((lane) => lane.services.flatMap((s) => s.unexpected));
  return {
    options,
    seconds: round((Date.now() - started) / 1000, 0),
    jobs: requests.length,
    lanes: laneFigures,
    faults: chaos.faults,
    faultsByClass,
    faultableCalls: chaos.faultable,
    faultedCalls: chaos.faulted,
    overallFaultRate: round(chaos.faulted / Math.max(1, chaos.faultable), 3),
    videos: requests.filter((r) => r.videos > 0).length,
    renderedByFfmpeg: requests.filter((r) => r.videos > 0 && (r.lane.process || r.ffmpeg)).length,
    failuresAnswered: requests.filter((r) => r.videos === 0 && r.failure).length,
    failureReasons,
    chatGone: requests.filter((r) => r.chatGone).length,
    lost: requests.filter(isLost).length,
    stillWaitingAtEnd: requests.filter((r) => (isLost(r) || isHung(r)) && r.videos === 0 && !r.failure && repliesTo(r.lane.fake, r.chat.id, r.messageId).some((m) => !m.upload && !m.deleted)).length,
    lostWithoutReply: requests.filter((r) => isLost(r) && repliesTo(r.lane.fake, r.chat.id, r.messageId).length === 0).length,
    deliveredTwice: requests.filter((r) => r.videos > 1).length,
    hung: requests.filter(isHung).length,
    paidCallsRepeated: repeated,
    paidCallsRepeatedAfterResume: repeatedAfterResume,
    paidCallsRepeatedBy: repeatedBy,
    firstReply: {
      p50Ms: round(percentile(latencies, 50), 0),
      p99Ms: round(percentile(latencies, 99), 0),
      maxMs: round(latencies.length > 0 ? Math.max(...latencies) : Number.NaN, 0),
      noReply: requests.filter((r) => r.firstReplyAt === undefined && !r.chatGone).length,
    },
    unexpectedExits,
    diskFaults: tmpfs ? 'tmpfs' : 'skipped (not root)',
    eventLoopLag: lag,
    examples: [
      ...examples,
      ...[...shared.warnings.entries()]
        .sort((a, b) => b[1] - a[1])
        // The most frequent lines, and every kind of final failure (a retry does not follow it).
        .filter(([line], i) => i < 14 || /job failed(?!, will retry)|"level":"error"/.test(line))
        .map(([k, v]) => `log x${v}: ${k}`),
    ],
  };
}

export function printSoak(r: SoakResult, write: (line: string) => void = (l) => console.log(l)): void {
  printTable(
    `Fault soak: ${r.jobs} requests, fault rate ${r.options.faultRate} per provider/chat call (${round(r.overallFaultRate * 100, 1)} % of ${r.faultableCalls} calls faulted), seed "${r.options.seed}", ${r.seconds} s`,
    ['lane', 'queue', 'render', 'jobs', 'videos', 'failed (told)', 'chat gone', 'lost', 'twice', 'hung'],
    r.lanes.map((l) => [l.lane, l.queue, l.render, l.jobs, l.videos, l.failures, l.chatGone, l.lost, l.twice, l.hung]),
    [],
    write,
  );
  printTable(
    'Faults injected',
    ['class', 'count', 'kinds'],
    Object.entries(r.faults).map(([kind, counts]) => [
      kind,
      r.faultsByClass[kind] ?? 0,
      Object.entries(counts)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || (kind === 'disk' ? r.diskFaults : '-'),
    ]),
    [],
    write,
  );
  printTable(
    'Outcome',
    ['measure', 'value'],
    [
      ['jobs', r.jobs],
      ['videos delivered', r.videos],
      ['  of them rendered by ffmpeg (the rest: in-memory assembler)', r.renderedByFfmpeg],
      ['failures answered with a clear message', r.failuresAnswered],
      ['requests in a chat the bot was removed from (403)', r.chatGone],
      ['lost (must be 0)', r.lost],
      ['  of lost/hung: still queued or running at the end (progress message shown, job exists)', r.stillWaitingAtEnd],
      ['  of lost: no reply at all in the chat', r.lostWithoutReply],
      ['delivered twice (must be 0)', r.deliveredTwice],
      [`hung: no end within ${r.options.deadlineSec} s (must be 0)`, r.hung],
      ['paid provider calls repeated (same request answered twice)', r.paidCallsRepeated],
      ['  of them in jobs a kill or Redis crash interrupted', r.paidCallsRepeatedAfterResume],
      ['  by endpoint', Object.entries(r.paidCallsRepeatedBy).map(([k, v]) => `${k} ${v}`).join(', ') || '-'],
      ['first reply p50 ms', r.firstReply.p50Ms],
      ['first reply p99 ms', r.firstReply.p99Ms],
      ['first reply max ms', r.firstReply.maxMs],
      ['requests with no reply at all', r.firstReply.noReply],
      ['processes that exited by themselves', r.unexpectedExits.length],
      ['event-loop delay of the soak process p99 / max ms (in-process lanes)', `${r.eventLoopLag.p99Ms} / ${r.eventLoopLag.maxMs}`],
    ],
    [
      ...Object.entries(r.failureReasons).map(([text, n]) => `failure x${n}: ${text}`),
      ...r.unexpectedExits.slice(0, 5).map((line) => `exit: ${line}`),
      ...r.examples,
    ],
    write,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printSoak(await benchSoak());
}
