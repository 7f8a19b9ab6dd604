/** The in-memory settings store: the default for tests and the state behind the file store. */
import { ownerKey, type Platform } from '../core/chat-target.js';
import type { DaySpend, ReserveOutcome, SpendLimits, SpendReservation, UtcDay } from '../core/spend.js';
import { isCaptionStyle, type CaptionStyle } from '../core/caption-style.js';
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
  /** Chats' default caption styles, by `platform:chatId` (absent in files written before they existed). */
  captions?: Record<string, CaptionStyle>;
  usernames: Record<string, string>;
  usage: Omit<UsageStats, 'users'>;
  users: string[];
  /** Short-lived documents and when they expire (ms since the epoch). */
  expiring: Record<string, { value: string; expiresAt: number }>;
  ledger: LedgerState;
}

/** The spending ledger: per UTC day, the total and each user's (`platform:id`); each job's reservation. */
export interface LedgerState {
  days: Record<UtcDay, { videos: number; usd: number; users: Record<string, { videos: number; usd: number }> }>;
  reservations: Record<string, { day: UtcDay; user: string; usd: number; state: 'reserved' | 'settled' | 'released' }>;
}

/** Days of ledger kept (the limits need only today; the rest is for a look back). */
export const LEDGER_KEEP_DAYS = 8;

/** Limits compare with a little slack, so float sums such as 0.1 + 0.2 do not refuse an exact fit. */
const EPSILON = 1e-9;

export function emptySettingsState(): SettingsState {
  const { users: _users, ...usage } = emptyUsageStats();
  return { version: 1, tiers: {}, usernames: {}, usage, users: [], expiring: {}, ledger: { days: {}, reservations: {} } };
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

  getCaptions(platform: Platform, chatId: string): Promise<CaptionStyle | undefined> {
    return Promise.resolve(this.state.captions?.[`${platform}:${chatId}`]);
  }

  async setCaptions(platform: Platform, chatId: string, style: CaptionStyle | 'auto'): Promise<void> {
    const captions = (this.state.captions ??= {});
    if (style === 'auto') delete captions[`${platform}:${chatId}`];
    else if (isCaptionStyle(style)) captions[`${platform}:${chatId}`] = style;
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

  async reserve(reservation: SpendReservation, limits: SpendLimits): Promise<ReserveOutcome> {
    // Check and book with no await in between: requests at the same moment are booked one by one.
    const ledger = this.state.ledger;
    if (ledger.reservations[reservation.jobId]) return { ok: true, duplicate: true };
    const user = ownerKey(reservation);
    const day = (ledger.days[reservation.day] ??= { videos: 0, usd: 0, users: {} });
    const mine = day.users[user] ?? { videos: 0, usd: 0 };
    if (limits.userVideos !== undefined && mine.videos + 1 > limits.userVideos) {
      return { ok: false, limit: 'user_videos', used: mine.videos, max: limits.userVideos };
    }
    if (limits.userUsd !== undefined && mine.usd + reservation.usd > limits.userUsd + EPSILON) {
      return { ok: false, limit: 'user_usd', used: mine.usd, max: limits.userUsd };
    }
    if (limits.budgetUsd !== undefined && day.usd + reservation.usd > limits.budgetUsd + EPSILON) {
      return { ok: false, limit: 'daily_budget', used: day.usd, max: limits.budgetUsd };
    }
    day.users[user] = { videos: mine.videos + 1, usd: mine.usd + reservation.usd };
    day.videos += 1;
    day.usd += reservation.usd;
    ledger.reservations[reservation.jobId] = { day: reservation.day, user, usd: reservation.usd, state: 'reserved' };
    this.pruneLedger(reservation.day);
    await this.changed();
    return { ok: true, duplicate: false };
  }

  async settle(jobId: string, usd: number): Promise<void> {
    if (this.closeReservation(jobId, 'settled', usd)) await this.changed();
  }

  async release(jobId: string): Promise<void> {
    if (this.closeReservation(jobId, 'released', 0)) await this.changed();
  }

  spend(day: UtcDay): Promise<DaySpend> {
    const entry = this.state.ledger.days[day];
    if (!entry) return Promise.resolve({ day, videos: 0, usd: 0, users: [] });
    const users = Object.entries(entry.users)
      .filter(([, u]) => u.videos > 0 || u.usd > EPSILON)
      .map(([key, u]) => {
        const [platform, ...id] = key.split(':');
        return { platform: platform as Platform, userId: id.join(':'), videos: u.videos, usd: Math.max(0, u.usd) };
      });
    return Promise.resolve({ day, videos: entry.videos, usd: Math.max(0, entry.usd), users });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private closeReservation(jobId: string, state: 'settled' | 'released', usd: number): boolean {
    const reservation = this.state.ledger.reservations[jobId];
    if (!reservation || reservation.state !== 'reserved') return false;
    const day = this.state.ledger.days[reservation.day];
    const user = day?.users[reservation.user];
    if (day && user) {
      const delta = usd - reservation.usd;
      user.usd += delta;
      day.usd += delta;
      if (state === 'released') {
        user.videos -= 1;
        day.videos -= 1;
      }
    }
    reservation.state = state;
    reservation.usd = usd;
    return true;
  }

  private pruneLedger(today: UtcDay): void {
    const oldest = new Date(Date.parse(today) - (LEDGER_KEEP_DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
    const ledger = this.state.ledger;
    for (const day of Object.keys(ledger.days)) if (day < oldest) delete ledger.days[day];
    for (const [id, r] of Object.entries(ledger.reservations)) if (r.day < oldest) delete ledger.reservations[id];
  }

  /** Called after every change; the file store saves here. */
  protected changed(): Promise<void> {
    return Promise.resolve();
  }
}
