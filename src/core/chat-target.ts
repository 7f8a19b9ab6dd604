/**
 * Where a job's progress and result go. Plain serialisable data: it travels inside job data
 * (through Redis in distributed mode) so a worker process can notify without the bot process.
 */
export type Platform = 'telegram' | 'discord' | 'cli';

/** Who asked: used for per-user limits, fairness, admin checks and tier overrides. */
export interface JobOwner {
  platform: Platform;
  userId: string;
  /** The chat (Telegram chat id / Discord channel id) the request came from. */
  chatId?: string;
  displayName?: string;
}

export interface TelegramTarget {
  platform: 'telegram';
  chatId: number;
  /** Forum topic id, kept for every reply. */
  threadId?: number;
  /** The user's /video message, which the progress message replies to. */
  replyToMessageId?: number;
  /** Set once the progress message exists. */
  progressMessageId?: number;
  locale: string;
}

export interface DiscordTarget {
  platform: 'discord';
  applicationId: string;
  /** Interaction token: valid for 15 minutes after `interactionCreatedAt`, then channel messages. */
  interactionToken: string;
  interactionCreatedAt: number;
  channelId: string;
  guildId?: string;
  progressMessageId?: string;
  locale: string;
  /** The interaction's `attachment_size_limit` in bytes (boosted servers allow more); 10 MiB when unknown. */
  attachmentSizeLimit?: number;
}

export type ChatTarget = TelegramTarget | DiscordTarget;

export function ownerKey(owner: JobOwner): string {
  return `${owner.platform}:${owner.userId}`;
}
