/**
 * The only reader of `process.env`. One zod schema, parsed once at start-up; every problem is
 * listed together. Everyone else receives a typed slice of the result.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ReelforgeError } from './core/errors.js';
import type { SpendLimits } from './core/spend.js';
import type { LogLevel } from './log.js';

const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

const optionalUrl = optionalString.pipe(z.url({ message: 'must be a URL such as http://127.0.0.1:8080' }).optional());

const positiveInt = (fallback: number) =>
  z.coerce.number().int({ message: 'must be a whole number' }).positive({ message: 'must be above 0' }).default(fallback);

const cores = Math.max(1, availableParallelism());

export const ADMIN_ID_PATTERN = /^(telegram|discord):\d+$/;
/** Telegram group ids are negative. */
const CHAT_ID_PATTERN = /^(telegram|discord):-?\d+$/;

/** `telegram:123,discord:456` as a set; unset or empty means no list. */
const idList = (pattern: RegExp, example: string) =>
  optionalString
    .superRefine((value, ctx) => {
      for (const id of splitList(value)) {
        if (!pattern.test(id)) ctx.addIssue({ code: 'custom', message: `"${id.slice(0, 40)}" is not like ${example}` });
      }
    })
    .transform((value): ReadonlySet<string> | undefined => (value === undefined ? undefined : new Set(splitList(value))));

const optionalNumber = optionalString.transform((v) => (v === undefined ? undefined : Number(v)));

const optionalPositive = (message: string) => optionalNumber.pipe(z.number({ message }).positive({ message: 'must be above 0' }).optional());

function splitList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

const envSchema = z.object({
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalUrl,
  LLM_MODEL: z.string().trim().min(1).default('gpt-4o-mini'),
  IMAGE_MODEL: z.string().trim().min(1).default('gpt-image-1-mini'),
  IMAGE_QUALITY: z.enum(['low', 'medium', 'high', 'standard', 'hd', 'auto']).default('low'),
  TTS_MODEL: z.string().trim().min(1).default('gpt-4o-mini-tts'),
  TTS_VOICE: z.string().trim().min(1).default('alloy'),
  /** JSON overrides of the pricing table, e.g. {"gpt-4o-mini":{"inputPer1M":0.15,"outputPer1M":0.6}}; parsed here, once. */
  PRICING_JSON: optionalString.transform((value, ctx): Record<string, unknown> => {
    if (value === undefined) return {};
    try {
      const parsed: unknown = JSON.parse(value);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object' });
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not valid JSON' });
    }
    return {};
  }),

  TELEGRAM_BOT_TOKEN: optionalString,
  TELEGRAM_API_ROOT: optionalUrl.default('https://api.telegram.org'),
  TELEGRAM_WEBHOOK_URL: optionalUrl,
  TELEGRAM_WEBHOOK_SECRET: optionalString,
  TELEGRAM_WEBHOOK_PORT: positiveInt(8080),
  TELEGRAM_UPLOAD_LIMIT_MB: positiveInt(50),

  DISCORD_BOT_TOKEN: optionalString,
  DISCORD_APPLICATION_ID: optionalString,
  DISCORD_API_BASE: optionalUrl.default('https://discord.com/api'),
  DISCORD_GUILD_ID: optionalString,

  REDIS_URL: optionalString,
  ROLE: z.enum(['all', 'bot', 'worker']).default('all'),
  ADMIN_IDS: idList(ADMIN_ID_PATTERN, 'telegram:123 or discord:456'),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  /** Default info for `bot` and `worker`, warn for `video` (its progress bar owns the terminal). */
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).optional(),

  /** Jobs generating (LLM, images, voice) at once: network-bound, so more than cores. */
  GENERATION_CONCURRENCY: positiveInt(Math.max(2, cores * 2)),
  /** ffmpeg renders at once: CPU-bound, so never more than cores. */
  RENDER_CONCURRENCY: positiveInt(cores),
  IMAGE_CONCURRENCY: positiveInt(4),
  TTS_CONCURRENCY: positiveInt(4),
  MAX_WAITING_JOBS: positiveInt(50),
  USER_MAX_ACTIVE: positiveInt(1),
  USER_MAX_WAITING: positiveInt(2),

  /** The /healthz, /readyz and /metrics server; off when unset. */
  METRICS_PORT: optionalNumber.pipe(z.number({ message: 'must be a port number' }).int({ message: 'must be a port number' }).min(1).max(65535, { message: 'must be a port number' }).optional()),
  METRICS_HOST: z.string().trim().min(1).default('127.0.0.1'),
  /** Who may use the bots; when either is set, everyone else (but admins) is refused. */
  ALLOWED_USERS: idList(ADMIN_ID_PATTERN, 'telegram:123 or discord:456'),
  ALLOWED_CHATS: idList(CHAT_ID_PATTERN, 'telegram:-100123 or discord:456'),
  /** Per user per UTC day, and for the whole deployment per UTC day; unset means no limit. */
  USER_DAILY_VIDEOS: optionalNumber.pipe(z.number({ message: 'must be a whole number' }).int({ message: 'must be a whole number' }).positive({ message: 'must be above 0' }).optional()),
  USER_DAILY_USD: optionalPositive('must be an amount in dollars, e.g. 0.50'),
  DAILY_BUDGET_USD: optionalPositive('must be an amount in dollars, e.g. 5'),
  /** How long a delivered video's storyboard is kept for re-rolls and edits (hours; decimals allowed). */
  STORYBOARD_KEEP_HOURS: optionalPositive('must be a number of hours, e.g. 24').transform((v) => v ?? 24),
  /** How long a /storyboard waits for Render before it expires (minutes; decimals allowed). */
  STORYBOARD_EXPIRE_MIN: optionalPositive('must be a number of minutes, e.g. 30').transform((v) => v ?? 30),
  /** DATA_DIR/cache (LLM answers, pictures, voices, encoded segments): entries unused this long go (days). */
  CACHE_MAX_AGE_DAYS: optionalPositive('must be a number of days, e.g. 30').transform((v) => v ?? 30),
  /** DATA_DIR/cache in all: beyond this, the least recently used entries go (megabytes). */
  CACHE_MAX_MB: optionalPositive('must be a number of megabytes, e.g. 5000').transform((v) => v ?? 5000),
  /** DATA_DIR/out (videos kept when a chat could not take them, CLI outputs): files older than this go (hours). */
  OUTPUT_MAX_AGE_HOURS: optionalPositive('must be a number of hours, e.g. 24').transform((v) => v ?? 24),
  /** DATA_DIR/out in all: beyond this, the oldest files go (megabytes). */
  OUTPUT_MAX_MB: optionalPositive('must be a number of megabytes, e.g. 2000').transform((v) => v ?? 2000),
}).superRefine((env, ctx) => {
  // Cross-field rules, run even when a field above failed (`when`), so every problem is listed at once;
  // a failed field may still hold its raw value here, so each rule only compares.
  if (env.DISCORD_BOT_TOKEN && !env.DISCORD_APPLICATION_ID) {
    ctx.addIssue({ code: 'custom', path: ['DISCORD_APPLICATION_ID'], message: 'required with DISCORD_BOT_TOKEN' });
  }
  if (env.TELEGRAM_WEBHOOK_URL && !env.TELEGRAM_WEBHOOK_SECRET) {
    ctx.addIssue({ code: 'custom', path: ['TELEGRAM_WEBHOOK_SECRET'], message: 'required with TELEGRAM_WEBHOOK_URL (checked on every update)' });
  }
  if (env.ROLE !== 'all' && !env.REDIS_URL) {
    ctx.addIssue({ code: 'custom', path: ['ROLE'], message: `"${env.ROLE}" needs REDIS_URL (bots and workers meet on Redis)` });
  }
  if (env.METRICS_HOST !== '127.0.0.1' && env.METRICS_PORT === undefined) {
    ctx.addIssue({ code: 'custom', path: ['METRICS_HOST'], message: 'has no effect without METRICS_PORT' });
  }
  if (env.USER_DAILY_USD !== undefined && env.DAILY_BUDGET_USD !== undefined && env.USER_DAILY_USD > env.DAILY_BUDGET_USD) {
    ctx.addIssue({ code: 'custom', path: ['USER_DAILY_USD'], message: `is above DAILY_BUDGET_USD (${env.DAILY_BUDGET_USD}); lower it or raise the budget` });
  }
}, { when: () => true });

/** Every variable the schema reads (the .env.example test compares it with this list). */
export const CONFIG_KEYS: readonly string[] = Object.keys(envSchema.shape);

export type Env = z.infer<typeof envSchema>;

export interface Config {
  dataDir: string;
  logLevel: LogLevel;
  /** `reelforge video`: LOG_LEVEL, or warn when unset. */
  cliLogLevel: LogLevel;
  /** null means offline providers. */
  openai: null | {
    apiKey: string;
    baseURL: string | undefined;
    llmModel: string;
    imageModel: string;
    imageQuality: Env['IMAGE_QUALITY'];
    ttsModel: string;
    ttsVoice: string;
  };
  pricingOverrides: Record<string, unknown>;
  telegram: null | {
    token: string;
    apiRoot: string;
    uploadLimitBytes: number;
    mode: { kind: 'polling' } | { kind: 'webhook'; url: string; secret: string; port: number };
  };
  discord: null | { token: string; applicationId: string; apiBase: string; guildId: string | undefined };
  redisUrl: string | undefined;
  role: Env['ROLE'];
  adminIds: ReadonlySet<string>;
  concurrency: { generation: number; render: number; images: number; speech: number };
  limits: { maxWaiting: number; userActive: number; userWaiting: number };
  storyboards: {
    /** A delivered video's storyboard (what a re-roll or an edit needs) is kept this long. */
    keepMs: number;
    /** An unapproved /storyboard expires after this long. */
    expireMs: number;
  };
  /** Bounded growth of DATA_DIR (services prune at start and every 15 min; never a file a job uses). */
  retention: {
    cache: { maxAgeMs: number; maxBytes: number };
    output: { maxAgeMs: number; maxBytes: number };
  };
  /** The health and metrics server; null when METRICS_PORT is unset. */
  metrics: null | { port: number; host: string };
  access: {
    /** `platform:id`; null when no list is set. */
    allowedUsers: ReadonlySet<string> | null;
    allowedChats: ReadonlySet<string> | null;
    limits: SpendLimits;
  };
}

/** Reads `.env` in the working directory, if there is one, without overriding the real environment. */
export function loadDotEnv(path = resolve('.env')): void {
  if (existsSync(path)) process.loadEnvFile(path);
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  if (problems.length > 0 || !e) {
    throw new ReelforgeError('config', `The configuration has ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  }

  const online = Boolean(e.OPENAI_API_KEY || e.OPENAI_BASE_URL);
  return {
    dataDir: resolve(e.DATA_DIR),
    logLevel: e.LOG_LEVEL ?? 'info',
    cliLogLevel: e.LOG_LEVEL ?? 'warn',
    openai: online
      ? {
          // Local OpenAI-compatible servers (Ollama, vLLM) accept any key.
          apiKey: e.OPENAI_API_KEY ?? 'not-needed',
          baseURL: e.OPENAI_BASE_URL,
          llmModel: e.LLM_MODEL,
          imageModel: e.IMAGE_MODEL,
          imageQuality: e.IMAGE_QUALITY,
          ttsModel: e.TTS_MODEL,
          ttsVoice: e.TTS_VOICE,
        }
      : null,
    pricingOverrides: e.PRICING_JSON,
    telegram: e.TELEGRAM_BOT_TOKEN
      ? {
          token: e.TELEGRAM_BOT_TOKEN,
          apiRoot: e.TELEGRAM_API_ROOT ?? 'https://api.telegram.org',
          uploadLimitBytes: e.TELEGRAM_UPLOAD_LIMIT_MB * 1024 * 1024,
          mode:
            e.TELEGRAM_WEBHOOK_URL && e.TELEGRAM_WEBHOOK_SECRET
              ? { kind: 'webhook', url: e.TELEGRAM_WEBHOOK_URL, secret: e.TELEGRAM_WEBHOOK_SECRET, port: e.TELEGRAM_WEBHOOK_PORT }
              : { kind: 'polling' },
        }
      : null,
    discord:
      e.DISCORD_BOT_TOKEN && e.DISCORD_APPLICATION_ID
        ? {
            token: e.DISCORD_BOT_TOKEN,
            applicationId: e.DISCORD_APPLICATION_ID,
            apiBase: e.DISCORD_API_BASE ?? 'https://discord.com/api',
            guildId: e.DISCORD_GUILD_ID,
          }
        : null,
    redisUrl: e.REDIS_URL,
    role: e.ROLE,
    adminIds: e.ADMIN_IDS ?? new Set<string>(),
    concurrency: {
      generation: e.GENERATION_CONCURRENCY,
      render: Math.min(e.RENDER_CONCURRENCY, cores * 2),
      images: e.IMAGE_CONCURRENCY,
      speech: e.TTS_CONCURRENCY,
    },
    limits: { maxWaiting: e.MAX_WAITING_JOBS, userActive: e.USER_MAX_ACTIVE, userWaiting: e.USER_MAX_WAITING },
    storyboards: { keepMs: Math.round(e.STORYBOARD_KEEP_HOURS * 3_600_000), expireMs: Math.round(e.STORYBOARD_EXPIRE_MIN * 60_000) },
    retention: {
      cache: { maxAgeMs: Math.round(e.CACHE_MAX_AGE_DAYS * 86_400_000), maxBytes: Math.round(e.CACHE_MAX_MB * 1_048_576) },
      output: { maxAgeMs: Math.round(e.OUTPUT_MAX_AGE_HOURS * 3_600_000), maxBytes: Math.round(e.OUTPUT_MAX_MB * 1_048_576) },
    },
    metrics: e.METRICS_PORT !== undefined ? { port: e.METRICS_PORT, host: e.METRICS_HOST } : null,
    access: {
      allowedUsers: e.ALLOWED_USERS ?? null,
      allowedChats: e.ALLOWED_CHATS ?? null,
      limits: {
        ...(e.USER_DAILY_VIDEOS !== undefined ? { userVideos: e.USER_DAILY_VIDEOS } : {}),
        ...(e.USER_DAILY_USD !== undefined ? { userUsd: e.USER_DAILY_USD } : {}),
        ...(e.DAILY_BUDGET_USD !== undefined ? { budgetUsd: e.DAILY_BUDGET_USD } : {}),
      },
    },
  };
}

/**
 * Names a child process (ffmpeg, ffprobe, espeak-ng, sh) may inherit: where programs and home
 * are, the locale, the temp folder, the time zone and how fontconfig and espeak-ng find their data.
 * Everything else (API keys, bot tokens, REDIS_URL) stays in this process.
 */
const CHILD_ENV_NAMES = new Set(['PATH', 'HOME', 'LANG', 'LANGUAGE', 'TMPDIR', 'TZ', 'FONTCONFIG_FILE', 'FONTCONFIG_PATH', 'ESPEAK_DATA_PATH']);

/**
 * The one place that builds a child process's environment: the allow-listed part of this
 * process's environment (and `LC_*`), plus `extra` (the tunables a program needs).
 */
export function childProcessEnv(extra: Readonly<Record<string, string>> = {}, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && (CHILD_ENV_NAMES.has(name) || name.startsWith('LC_'))) out[name] = value;
  }
  return { ...out, ...extra };
}
