/**
 * Admin helpers shared by the chat bots: who is an admin, what `/tier` arguments mean, and the
 * plain-text /stats and /queue summaries.
 */
import { ownerKey, type Platform } from '../../core/chat-target.js';
import { ReelforgeError } from '../../core/errors.js';
import { isTier } from '../../core/tiers.js';
import type { SpendSummary } from '../../core/spend.js';
import type { JobInfo, QueueStats } from '../../queue/types.js';
import type { TierChoice, UsageStats } from '../../store/settings.js';
import { botTexts, pickLocale } from './i18n.js';

/** `adminIds` holds entries such as `telegram:123` and `discord:456` (config.adminIds). */
export function isAdmin(adminIds: ReadonlySet<string>, platform: Platform, userId: string | number): boolean {
  return adminIds.has(`${platform}:${String(userId)}`);
}

export type TierTarget =
  | { kind: 'chat' }
  | { kind: 'user'; userId: string }
  | { kind: 'username'; username: string }
  /** The author of the message the command replies to. */
  | { kind: 'reply' };

export interface TierArgs {
  target: TierTarget;
  tier: TierChoice;
}

function tierArgsError(): ReelforgeError {
  return new ReelforgeError('bad_input', 'Usage: /tier <@user|id|chat> <ultra_fast|balanced|quality|auto>', {
    params: { reason: 'tier_args' },
  });
}

function parseTierChoice(value: string): TierChoice {
  const v = value.toLowerCase();
  if (v === 'auto' || isTier(v)) return v;
  throw new ReelforgeError('bad_input', `Unknown tier "${value.slice(0, 20)}": use ultra_fast, balanced, quality or auto.`, {
    params: { reason: 'tier' },
  });
}

function parseTarget(value: string): TierTarget {
  if (value.toLowerCase() === 'chat') return { kind: 'chat' };
  if (/^\d+$/.test(value)) return { kind: 'user', userId: value };
  // Discord mentions arrive as <@123> or <@!123>.
  const mention = /^<@!?(\d+)>$/.exec(value);
  if (mention?.[1]) return { kind: 'user', userId: mention[1] };
  if (/^@[A-Za-z0-9_.]{2,64}$/.test(value)) return { kind: 'username', username: value.slice(1) };
  throw tierArgsError();
}

/**
 * Parses the text after `/tier`: `chat quality`, `123 balanced`, `@bob auto`, `<@123> quality`, or,
 * when the command replies to someone's message, just `quality`. Throws ReelforgeError bad_input
 * with reason `tier_args` (wrong shape) or `tier` (unknown tier).
 */
export function parseTierArgs(text: string, options: { hasReply?: boolean } = {}): TierArgs {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (words.length === 1 && options.hasReply) return { target: { kind: 'reply' }, tier: parseTierChoice(words[0] ?? '') };
  if (words.length !== 2) throw tierArgsError();
  const [target, tier] = words as [string, string];
  return { target: parseTarget(target), tier: parseTierChoice(tier) };
}

function money(usd: number): string {
  return `$${usd.toFixed(usd >= 1 ? 2 : 4)}`;
}

export function formatStats(queue: QueueStats, usage: UsageStats, locale: string | undefined): string {
  const tokens = usage.tokens.toLocaleString('en-US');
  if (pickLocale(locale) === 'ru') {
    return [
      `Очередь: ${queue.active} в работе, ${queue.waiting} ждут`,
      `Задачи: ${usage.jobs} (готово ${usage.completed}, ошибок ${usage.failed}, отменено ${usage.cancelled})`,
      `Пользователи: ${usage.users}`,
      `Токены: ${tokens}, картинки: ${usage.images}, видео: ${Math.round(usage.videoSec)} с`,
      `Стоимость: ~${money(usage.costUsd)}`,
      ...spendLines(queue.spend, 'ru'),
    ].join('\n');
  }
  return [
    `Queue: ${queue.active} running, ${queue.waiting} waiting`,
    `Jobs: ${usage.jobs} (${usage.completed} done, ${usage.failed} failed, ${usage.cancelled} cancelled)`,
    `Users: ${usage.users}`,
    `Tokens: ${tokens}, images: ${usage.images}, video: ${Math.round(usage.videoSec)} s`,
    `Cost: ~${money(usage.costUsd)}`,
    ...spendLines(queue.spend, 'en'),
  ].join('\n');
}

/** Users listed in /stats, biggest spenders first. */
const STATS_USERS = 15;

/** Today's spending (booked estimates and settled receipts) and what is left of each limit. */
function spendLines(spend: SpendSummary | undefined, lang: 'en' | 'ru'): string[] {
  if (!spend) return [];
  const ru = lang === 'ru';
  const { limits } = spend;
  const budget =
    limits.budgetUsd !== undefined
      ? ru
        ? ` из ${money(limits.budgetUsd)}, осталось ${money(Math.max(0, limits.budgetUsd - spend.usd))}`
        : ` of ${money(limits.budgetUsd)}, ${money(Math.max(0, limits.budgetUsd - spend.usd))} left`
      : '';
  const lines = [
    '',
    ru
      ? `Сегодня (${spend.day}, UTC): ${money(spend.usd)}${budget}; видео: ${spend.videos}`
      : `Today (${spend.day}, UTC): ${money(spend.usd)}${budget}; videos: ${spend.videos}`,
  ];
  const perUser = [
    limits.userVideos !== undefined ? (ru ? `${limits.userVideos} видео` : `${limits.userVideos} videos`) : undefined,
    limits.userUsd !== undefined ? money(limits.userUsd) : undefined,
  ].filter((x): x is string => x !== undefined);
  if (perUser.length > 0) lines.push(ru ? `Лимит на пользователя в день: ${perUser.join(', ')}` : `Per user per day: ${perUser.join(', ')}`);
  const users = [...spend.users].sort((a, b) => b.usd - a.usd || b.videos - a.videos);
  for (const user of users.slice(0, STATS_USERS)) {
    const left = [
      limits.userVideos !== undefined ? (ru ? `${Math.max(0, limits.userVideos - user.videos)} видео` : `${Math.max(0, limits.userVideos - user.videos)} videos`) : undefined,
      limits.userUsd !== undefined ? money(Math.max(0, limits.userUsd - user.usd)) : undefined,
    ].filter((x): x is string => x !== undefined);
    const rest = left.length > 0 ? (ru ? ` (осталось ${left.join(', ')})` : ` (${left.join(', ')} left)`) : '';
    lines.push(`  ${user.platform}:${user.userId}: ${user.videos} ${ru ? 'видео' : user.videos === 1 ? 'video' : 'videos'}, ${money(user.usd)}${rest}`);
  }
  if (users.length > STATS_USERS) lines.push(ru ? `  …и ещё ${users.length - STATS_USERS}` : `  …and ${users.length - STATS_USERS} more`);
  return lines;
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * One line per job, running first, then waiting in order: id, state, length, topic, who asked. At
 * most `maxChars` long (a chat's message limit): the lines that fit, then how many more there are.
 */
export function formatQueue(jobs: readonly JobInfo[], locale: string | undefined, maxChars = Number.POSITIVE_INFINITY): string {
  const ru = pickLocale(locale) === 'ru';
  const t = botTexts(locale);
  if (jobs.length === 0) return t.queueEmpty;
  const lines = jobs.map((job) => {
    const state =
      job.state === 'active'
        ? ru
          ? '⏳ в работе'
          : '⏳ running'
        : job.state === 'waiting'
          ? `▫️ #${job.position ?? '?'}`
          : job.state;
    const r = job.data.request;
    return `${job.id} · ${state} · ${r.durationSec} s · ${shorten(r.topic.replace(/\s+/g, ' '), 40)} · ${shorten(ownerKey(job.data.owner), 40)}`;
  });
  const out: string[] = [];
  let length = 0;
  for (const [i, line] of lines.entries()) {
    const rest = lines.length - i - 1;
    // Room for this line, and for the "and N more" line if others would follow it.
    const tail = rest > 0 ? t.queueMore(rest).length + 1 : 0;
    if (length + line.length + 1 + tail > maxChars) {
      out.push(t.queueMore(lines.length - i));
      break;
    }
    out.push(line);
    length += line.length + 1;
  }
  return out.join('\n');
}
