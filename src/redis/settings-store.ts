/**
 * Settings on Redis, shared by every bot and worker process: tier overrides and usernames in hashes,
 * usage counters with HINCRBY (atomic across processes), distinct users in a set.
 */
import { createRedis, type Redis } from './connection.js';
import { ownerKey, type Platform } from '../core/chat-target.js';
import { ReelforgeError } from '../core/errors.js';
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

  async close(): Promise<void> {
    if (this.ownsClient) await this.redis.quit();
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
