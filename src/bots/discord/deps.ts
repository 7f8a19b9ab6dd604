/** What the Discord bot's command modules need, and the small helpers they share. */
import { MessageFlags, type RepliableInteraction } from 'discord.js';
import type { DiscordTarget } from '../../core/chat-target.js';
import type { JobQueue, JobInfo } from '../../queue/types.js';
import type { SettingsStore } from '../../store/settings.js';
import { isAdmin } from '../shared/admin.js';
import type { StoryboardService } from '../shared/storyboard-drafts.js';
import type { DiscordNotifier } from './notifier.js';
import type { DiscordLog } from './rest.js';

export interface DiscordBotDeps {
  applicationId: string;
  queue: JobQueue;
  settings: SettingsStore;
  /** Entries such as `discord:456` (config.adminIds). */
  adminIds: ReadonlySet<string>;
  notifier: DiscordNotifier;
  log: DiscordLog;
  /** /storyboard; absent: the command answers that it is not available. */
  storyboards?: StoryboardService;
  /** Aborted when the bot stops: background work (storyboard expiry) ends. */
  stopping?: AbortSignal;
}

export const ephemeral = MessageFlags.Ephemeral;
/** Topics and names are user text: never let one ping @everyone or a role. */
export const noMentions = { parse: [] };

/**
 * Defers the interaction's reply (inside Discord's 3 s window, before anything that waits on storage
 * or the queue) and returns where the job reports: that reply, edited in place.
 */
export async function deferToTarget(deps: DiscordBotDeps, i: RepliableInteraction): Promise<DiscordTarget> {
  const deferred = await i.deferReply({ withResponse: true });
  const progressMessageId = deferred.resource?.message?.id;
  return {
    platform: 'discord',
    applicationId: deps.applicationId,
    interactionToken: i.token,
    interactionCreatedAt: i.createdTimestamp,
    channelId: i.channelId ?? '',
    ...(i.guildId ? { guildId: i.guildId } : {}),
    ...(progressMessageId ? { progressMessageId } : {}),
    locale: i.locale,
    ...(i.attachmentSizeLimit ? { attachmentSizeLimit: i.attachmentSizeLimit } : {}),
  };
}

export function isAdminUser(deps: DiscordBotDeps, userId: string): boolean {
  return isAdmin(deps.adminIds, 'discord', userId);
}

export function canCancel(deps: DiscordBotDeps, job: JobInfo, userId: string): boolean {
  return (job.data.owner.platform === 'discord' && job.data.owner.userId === userId) || isAdminUser(deps, userId);
}
