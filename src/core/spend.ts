/**
 * The vocabulary of the daily spending ledger: what a user and the deployment spent on one UTC day,
 * the limits that apply, and which limit refused a request. Plain data, shared by the settings
 * stores (which keep the ledger), the admission check (which enforces it) and /stats (which shows it).
 */
import type { Platform } from './chat-target.js';

/** A UTC day as `YYYY-MM-DD`. */
export type UtcDay = string;

export type SpendLimitName = 'user_videos' | 'user_usd' | 'daily_budget';

/** Unset means no limit. */
export interface SpendLimits {
  userVideos?: number;
  userUsd?: number;
  budgetUsd?: number;
}

/** A job's estimated cost, held from enqueue until its receipt settles it (or a failure releases it). */
export interface SpendReservation {
  jobId: string;
  day: UtcDay;
  platform: Platform;
  userId: string;
  usd: number;
}

export type ReserveOutcome =
  | { ok: true; duplicate: boolean }
  | { ok: false; limit: SpendLimitName; used: number; max: number };

export interface UserSpend {
  platform: Platform;
  userId: string;
  /** Videos reserved or delivered today (released ones do not count). */
  videos: number;
  /** Settled costs plus the estimates of jobs still running or waiting. */
  usd: number;
}

export interface DaySpend {
  day: UtcDay;
  videos: number;
  usd: number;
  users: UserSpend[];
}

/** Today's ledger with the limits, for /stats. */
export interface SpendSummary extends DaySpend {
  limits: SpendLimits;
}

export function utcDay(at: Date): UtcDay {
  return at.toISOString().slice(0, 10);
}

/** The next UTC midnight: when every daily limit starts again. */
export function nextUtcMidnight(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1));
}
