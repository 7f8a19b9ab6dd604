/**
 * Settings on Redis, shared by every bot and worker process: tier overrides, chats' caption styles and usernames in hashes,
 * usage counters with HINCRBY (atomic across processes), distinct users in a set, and the spending
 * ledger, whose check-and-book and settle steps are Lua scripts (atomic across processes).
 */
import { createRedis, type Redis } from './connection.js';
import { ownerKey, type Platform } from '../core/chat-target.js';
import { ReelforgeError } from '../core/errors.js';
import type { DaySpend, ReserveOutcome, SpendLimitName, SpendLimits, SpendReservation, UtcDay } from '../core/spend.js';
import { isCaptionStyle, type CaptionStyle } from '../core/caption-style.js';
import { isTier, type Tier } from '../core/tiers.js';
import {
  normalizeUsername,
  scopeKey,
  type SettingsStore,
  type TierChoice,
  type TierLookup,
  type TierScope,
  type UsageRecord,
  type UsageStats,
} from '../store/settings.js';

export interface RedisSettingsStoreOptions {
  /** A client to use (not closed by the store) or a URL to connect to (closed by `close()`). */
  redis: Redis | string;
  /** Key prefix, so tests and deployments can share one Redis. */
  prefix?: string;
}

export class RedisSettingsStore implements SettingsStore {
  private readonly redis: Redis;
  private readonly ownsClient: boolean;
  private readonly prefix: string;

  constructor(options: RedisSettingsStoreOptions) {
    this.ownsClient = typeof options.redis === 'string';
    // Connection errors surface on each command as provider_unavailable, so the client logs nothing.
    this.redis =
      typeof options.redis === 'string'
        ? createRedis(options.redis, { maxRetriesPerRequest: 3, name: 'reelforge-settings', log: () => undefined })
        : options.redis;
    this.prefix = options.prefix ?? 'reelforge:settings:';
  }

  private key(name: string): string {
    return `${this.prefix}${name}`;
  }

  async getTier(lookup: TierLookup): Promise<Tier | undefined> {
    const fields = [scopeKey({ kind: 'user', platform: lookup.platform, userId: lookup.userId })];
    if (lookup.chatId !== undefined) fields.push(scopeKey({ kind: 'chat', platform: lookup.platform, chatId: lookup.chatId }));
    const values = await this.call(() => this.redis.hmget(this.key('tiers'), ...fields));
    for (const value of values) if (value && isTier(value)) return value;
    return undefined;
  }

  async setTier(scope: TierScope, tier: TierChoice): Promise<void> {
    const field = scopeKey(scope);
    if (tier === 'auto') await this.call(() => this.redis.hdel(this.key('tiers'), field));
    else await this.call(() => this.redis.hset(this.key('tiers'), field, tier));
  }

  async getCaptions(platform: Platform, chatId: string): Promise<CaptionStyle | undefined> {
    const value = await this.call(() => this.redis.hget(this.key('captions'), `${platform}:${chatId}`));
    return value && isCaptionStyle(value) ? value : undefined;
  }

  async setCaptions(platform: Platform, chatId: string, style: CaptionStyle | 'auto'): Promise<void> {
    const field = `${platform}:${chatId}`;
    if (style === 'auto') await this.call(() => this.redis.hdel(this.key('captions'), field));
    else await this.call(() => this.redis.hset(this.key('captions'), field, style));
  }

  async rememberUser(platform: Platform, username: string, userId: string): Promise<void> {
    await this.call(() => this.redis.hset(this.key('usernames'), `${platform}:${normalizeUsername(username)}`, userId));
  }

  async findUser(platform: Platform, username: string): Promise<string | undefined> {
    const id = await this.call(() => this.redis.hget(this.key('usernames'), `${platform}:${normalizeUsername(username)}`));
    return id ?? undefined;
  }

  async record(usage: UsageRecord): Promise<void> {
    const usageKey = this.key('usage');
    await this.call(() =>
      this.redis
        .multi()
        .hincrby(usageKey, 'jobs', 1)
        .hincrby(usageKey, usage.outcome, 1)
        .hincrby(usageKey, 'tokens', Math.round(usage.tokens ?? 0))
        .hincrbyfloat(usageKey, 'costUsd', usage.costUsd ?? 0)
        .hincrby(usageKey, 'images', Math.round(usage.images ?? 0))
        .hincrbyfloat(usageKey, 'videoSec', usage.videoSec ?? 0)
        .sadd(this.key('users'), ownerKey(usage))
        .exec(),
    );
  }

  async stats(): Promise<UsageStats> {
    const [fields, users] = await this.call(() =>
      Promise.all([this.redis.hgetall(this.key('usage')), this.redis.scard(this.key('users'))]),
    );
    const n = (name: string): number => Number(fields[name] ?? 0);
    return {
      jobs: n('jobs'),
      completed: n('completed'),
      failed: n('failed'),
      cancelled: n('cancelled'),
      tokens: n('tokens'),
      costUsd: n('costUsd'),
      images: n('images'),
      videoSec: n('videoSec'),
      users,
    };
  }

  async putExpiring(key: string, value: string, ttlMs: number): Promise<void> {
    await this.call(() => this.redis.set(this.key(`expiring:${key}`), value, 'PX', Math.max(1, Math.round(ttlMs))));
  }

  async getExpiring(key: string): Promise<string | undefined> {
    return (await this.call(() => this.redis.get(this.key(`expiring:${key}`)))) ?? undefined;
  }

  async deleteExpiring(key: string): Promise<boolean> {
    return (await this.call(() => this.redis.del(this.key(`expiring:${key}`)))) > 0;
  }

  async reserve(reservation: SpendReservation, limits: SpendLimits): Promise<ReserveOutcome> {
    const keys = [this.key(`spend:job:${reservation.jobId}`), ...this.dayKeys(reservation.day)];
    const reply = (await this.call(() =>
      this.redis.eval(
        RESERVE,
        keys.length,
        ...keys,
        ownerKey(reservation),
        String(reservation.usd),
        String(limits.userVideos ?? -1),
        String(limits.userUsd ?? -1),
        String(limits.budgetUsd ?? -1),
        reservation.day,
        String(LEDGER_TTL_SEC),
      ),
    )) as [number, string, string, string];
    const [ok, what, used, max] = reply;
    if (ok === 1) return { ok: true, duplicate: what === 'duplicate' };
    return { ok: false, limit: what as SpendLimitName, used: Number(used), max: Number(max) };
  }

  async settle(jobId: string, usd: number): Promise<void> {
    await this.closeReservation(jobId, 'settled', usd);
  }

  async release(jobId: string): Promise<void> {
    await this.closeReservation(jobId, 'released', 0);
  }

  async spend(day: UtcDay): Promise<DaySpend> {
    const [usdByUser, videosByUser, total] = this.dayKeys(day);
    const [usd, videos, totals] = await this.call(() =>
      Promise.all([this.redis.hgetall(usdByUser), this.redis.hgetall(videosByUser), this.redis.hgetall(total)]),
    );
    const users = [...new Set([...Object.keys(usd), ...Object.keys(videos)])]
      .map((key) => {
        const [platform, ...id] = key.split(':');
        return { platform: platform as Platform, userId: id.join(':'), videos: Number(videos[key] ?? 0), usd: Math.max(0, Number(usd[key] ?? 0)) };
      })
      .filter((u) => u.videos > 0 || u.usd > 1e-9);
    return { day, videos: Number(totals.videos ?? 0), usd: Math.max(0, Number(totals.usd ?? 0)), users };
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.redis.quit();
  }

  /** Per day: each user's dollars, each user's videos, and the day's totals. */
  private dayKeys(day: UtcDay): [string, string, string] {
    return [this.key(`spend:${day}:usd`), this.key(`spend:${day}:videos`), this.key(`spend:${day}:total`)];
  }

  private async closeReservation(jobId: string, state: 'settled' | 'released', usd: number): Promise<void> {
    const job = this.key(`spend:job:${jobId}`);
    // The day's keys must be named to the script; the script checks the day again, atomically.
    const day = await this.call(() => this.redis.hget(job, 'day'));
    if (!day) return;
    const keys = [job, ...this.dayKeys(day)];
    await this.call(() => this.redis.eval(CLOSE, keys.length, ...keys, state, String(usd), day));
  }

  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      // The URL may hold a password: say what failed, keep the details in `cause`.
      throw new ReelforgeError('provider_unavailable', 'The settings store (Redis) could not be reached.', {
        retryable: true,
        cause: error,
      });
    }
  }
}

/** The ledger keeps a few days for a look back; the limits need only today. */
const LEDGER_TTL_SEC = 8 * 86_400;

/**
 * KEYS: job reservation, day usd by user, day videos by user, day totals.
 * ARGV: user, usd, user video limit, user usd limit, budget (-1: none), day, ttl.
 * Returns {1, "ok"|"duplicate", "", ""} or {0, limit name, used, max}.
 */
const RESERVE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {1, 'duplicate', '', ''} end
local user, usd = ARGV[1], tonumber(ARGV[2])
local videos = tonumber(redis.call('HGET', KEYS[3], user) or '0')
local spent = tonumber(redis.call('HGET', KEYS[2], user) or '0')
local total = tonumber(redis.call('HGET', KEYS[4], 'usd') or '0')
local maxVideos, maxUsd, budget = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local eps = 1e-9
if maxVideos >= 0 and videos + 1 > maxVideos then return {0, 'user_videos', tostring(videos), ARGV[3]} end
if maxUsd >= 0 and spent + usd > maxUsd + eps then return {0, 'user_usd', tostring(spent), ARGV[4]} end
if budget >= 0 and total + usd > budget + eps then return {0, 'daily_budget', tostring(total), ARGV[5]} end
redis.call('HINCRBY', KEYS[3], user, 1)
redis.call('HINCRBYFLOAT', KEYS[2], user, ARGV[2])
redis.call('HINCRBY', KEYS[4], 'videos', 1)
redis.call('HINCRBYFLOAT', KEYS[4], 'usd', ARGV[2])
redis.call('HSET', KEYS[1], 'day', ARGV[6], 'user', user, 'usd', ARGV[2], 'state', 'reserved')
for i = 1, 4 do redis.call('EXPIRE', KEYS[i], tonumber(ARGV[7])) end
return {1, 'ok', '', ''}
`;

/**
 * KEYS as for RESERVE. ARGV: "settled" or "released", the receipt's usd, the day.
 * Only a reservation still "reserved" changes anything, so a second settle or release is a no-op.
 */
const CLOSE = `
if redis.call('HGET', KEYS[1], 'state') ~= 'reserved' or redis.call('HGET', KEYS[1], 'day') ~= ARGV[3] then return 0 end
local user = redis.call('HGET', KEYS[1], 'user')
local reserved = tonumber(redis.call('HGET', KEYS[1], 'usd'))
local final = 0
if ARGV[1] == 'released' then
  redis.call('HINCRBY', KEYS[3], user, -1)
  redis.call('HINCRBY', KEYS[4], 'videos', -1)
else
  final = tonumber(ARGV[2])
end
local delta = final - reserved
redis.call('HINCRBYFLOAT', KEYS[2], user, string.format('%.12f', delta))
redis.call('HINCRBYFLOAT', KEYS[4], 'usd', string.format('%.12f', delta))
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'usd', string.format('%.12f', final))
return 1
`;
