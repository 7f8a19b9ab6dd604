/**
 * The settings store: admin tier overrides (per user, per chat), chats' default caption styles, usernames the bots have seen (so an
 * admin can write `/tier @bob quality`), usage counters for /stats, and the daily spending ledger
 * (reservations made at enqueue, settled with the receipt; checked and booked in one atomic step). Implementations: memory,
 * a JSON file under DATA_DIR, and Redis (src/redis/settings-store.ts); all pass test/store/contract.ts.
 * It also keeps short-lived documents with an expiry (a storyboard waiting for approval, the
 * storyboard of a delivered video), where every bot and worker process can reach them.
 */
import type { Platform } from '../core/chat-target.js';
import type { DaySpend, ReserveOutcome, SpendLimits, SpendReservation, UtcDay } from '../core/spend.js';
import type { CaptionStyle } from '../core/caption-style.js';
import type { Tier } from '../core/tiers.js';

export type TierChoice = Tier | 'auto';

export type TierScope =
  | { kind: 'user'; platform: Platform; userId: string }
  | { kind: 'chat'; platform: Platform; chatId: string };

export interface TierLookup {
  platform: Platform;
  userId: string;
  chatId?: string;
}

export type UsageOutcome = 'completed' | 'failed' | 'cancelled';

export interface UsageRecord {
  platform: Platform;
  userId: string;
  outcome: UsageOutcome;
  tokens?: number;
  costUsd?: number;
  images?: number;
  videoSec?: number;
}

export interface UsageStats {
  jobs: number;
  completed: number;
  failed: number;
  cancelled: number;
  tokens: number;
  costUsd: number;
  images: number;
  videoSec: number;
  /** Distinct users who asked for at least one video. */
  users: number;
}

export interface SettingsStore {
  /** The override for this request: a user override beats a chat override; undefined means automatic. */
  getTier(lookup: TierLookup): Promise<Tier | undefined>;
  /** `auto` removes the override. */
  setTier(scope: TierScope, tier: TierChoice): Promise<void>;
  /** A chat's default caption style (an admin's choice); undefined means the built-in default. */
  getCaptions(platform: Platform, chatId: string): Promise<CaptionStyle | undefined>;
  /** `auto` removes the chat's default. */
  setCaptions(platform: Platform, chatId: string, style: CaptionStyle | 'auto'): Promise<void>;
  rememberUser(platform: Platform, username: string, userId: string): Promise<void>;
  findUser(platform: Platform, username: string): Promise<string | undefined>;
  record(usage: UsageRecord): Promise<void>;
  stats(): Promise<UsageStats>;
  /** Keeps `value` under `key` for `ttlMs`, replacing what was there (and its expiry). */
  putExpiring(key: string, value: string, ttlMs: number): Promise<void>;
  /** The value, or undefined once it expired or was deleted. */
  getExpiring(key: string): Promise<string | undefined>;
  /** Removes it; true when it was there (so of two deleters, one wins). */
  deleteExpiring(key: string): Promise<boolean>;
  /**
   * Books a job's estimated cost on its day, unless that would pass a limit: the check and the booking
   * are one atomic step, so requests made at the same moment (in any process) cannot overshoot.
   * A second reservation for the same job id books nothing and succeeds (`duplicate`).
   */
  reserve(reservation: SpendReservation, limits: SpendLimits): Promise<ReserveOutcome>;
  /** Replaces a reservation's estimate with the receipt's cost. Only the first settle or release counts. */
  settle(jobId: string, usd: number): Promise<void>;
  /** Gives a reservation back (the job failed or was cancelled): its video and its estimate no longer count. */
  release(jobId: string): Promise<void>;
  /** One day's ledger: the deployment's total and each user's. */
  spend(day: UtcDay): Promise<DaySpend>;
  close(): Promise<void>;
}

export function emptyUsageStats(): UsageStats {
  return { jobs: 0, completed: 0, failed: 0, cancelled: 0, tokens: 0, costUsd: 0, images: 0, videoSec: 0, users: 0 };
}

export function scopeKey(scope: TierScope): string {
  return scope.kind === 'user' ? `user:${scope.platform}:${scope.userId}` : `chat:${scope.platform}:${scope.chatId}`;
}

/** Usernames are case-insensitive on both platforms; a leading @ is not part of the name. */
export function normalizeUsername(username: string): string {
  return username.replace(/^@/, '').toLowerCase();
}
