/** The in-memory settings store: the default for tests and the state behind the file store. */
import { ownerKey, type Platform } from '../core/chat-target.js';
import { isTier, type Tier } from '../core/tiers.js';
import {
  emptyUsageStats,
  normalizeUsername,
  scopeKey,
  type SettingsStore,
  type TierChoice,
  type TierLookup,
  type TierScope,
  type UsageRecord,
  type UsageStats,
} from './settings.js';

/** Plain JSON state, so the file store can save and load it as it is. */
export interface SettingsState {
  version: 1;
  tiers: Record<string, Tier>;
  usernames: Record<string, string>;
  usage: Omit<UsageStats, 'users'>;
  users: string[];
  /** Short-lived documents and when they expire (ms since the epoch). */
  expiring: Record<string, { value: string; expiresAt: number }>;
}

export function emptySettingsState(): SettingsState {
  const { users: _users, ...usage } = emptyUsageStats();
  return { version: 1, tiers: {}, usernames: {}, usage, users: [], expiring: {} };
}

export class MemorySettingsStore implements SettingsStore {
  protected state: SettingsState;
  private readonly users: Set<string>;

  constructor(state: SettingsState = emptySettingsState()) {
    this.state = state;
    this.users = new Set(state.users);
  }

  getTier(lookup: TierLookup): Promise<Tier | undefined> {
    const user = this.state.tiers[scopeKey({ kind: 'user', platform: lookup.platform, userId: lookup.userId })];
    if (user) return Promise.resolve(user);
    if (lookup.chatId === undefined) return Promise.resolve(undefined);
    return Promise.resolve(this.state.tiers[scopeKey({ kind: 'chat', platform: lookup.platform, chatId: lookup.chatId })]);
  }

  async setTier(scope: TierScope, tier: TierChoice): Promise<void> {
    const key = scopeKey(scope);
    if (tier === 'auto') delete this.state.tiers[key];
    else if (isTier(tier)) this.state.tiers[key] = tier;
    await this.changed();
  }

  async rememberUser(platform: Platform, username: string, userId: string): Promise<void> {
    const key = `${platform}:${normalizeUsername(username)}`;
    if (this.state.usernames[key] === userId) return;
    this.state.usernames[key] = userId;
    await this.changed();
  }

  findUser(platform: Platform, username: string): Promise<string | undefined> {
    return Promise.resolve(this.state.usernames[`${platform}:${normalizeUsername(username)}`]);
  }

  async record(usage: UsageRecord): Promise<void> {
    const u = this.state.usage;
    u.jobs += 1;
    u[usage.outcome] += 1;
    u.tokens += usage.tokens ?? 0;
    u.costUsd += usage.costUsd ?? 0;
    u.images += usage.images ?? 0;
    u.videoSec += usage.videoSec ?? 0;
    const key = ownerKey(usage);
    if (!this.users.has(key)) {
      this.users.add(key);
      this.state.users.push(key);
    }
    await this.changed();
  }

  stats(): Promise<UsageStats> {
    return Promise.resolve({ ...this.state.usage, users: this.users.size });
  }

  async putExpiring(key: string, value: string, ttlMs: number): Promise<void> {
    const now = Date.now();
    // Expired entries go whenever something is written, so the state never grows without bound.
    for (const [k, entry] of Object.entries(this.state.expiring)) if (entry.expiresAt <= now) delete this.state.expiring[k];
    this.state.expiring[key] = { value, expiresAt: now + Math.max(1, ttlMs) };
    await this.changed();
  }

  getExpiring(key: string): Promise<string | undefined> {
    const entry = this.state.expiring[key];
    return Promise.resolve(entry && entry.expiresAt > Date.now() ? entry.value : undefined);
  }

  async deleteExpiring(key: string): Promise<boolean> {
    const entry = this.state.expiring[key];
    if (!entry) return false;
    delete this.state.expiring[key];
    await this.changed();
    return entry.expiresAt > Date.now();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Called after every change; the file store saves here. */
  protected changed(): Promise<void> {
    return Promise.resolve();
  }
}
