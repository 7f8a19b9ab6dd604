/**
 * Admin helpers shared by the chat bots: who is an admin, what `/tier` arguments mean, and the
 * plain-text /stats and /queue summaries.
 */
import { ownerKey, type Platform } from '../../core/chat-target.js';
import { ReelforgeError } from '../../core/errors.js';
import { isTier } from '../../core/tiers.js';
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
    ].join('\n');
  }
  return [
    `Queue: ${queue.active} running, ${queue.waiting} waiting`,
    `Jobs: ${usage.jobs} (${usage.completed} done, ${usage.failed} failed, ${usage.cancelled} cancelled)`,
    `Users: ${usage.users}`,
    `Tokens: ${tokens}, images: ${usage.images}, video: ${Math.round(usage.videoSec)} s`,
    `Cost: ~${money(usage.costUsd)}`,
  ].join('\n');
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
