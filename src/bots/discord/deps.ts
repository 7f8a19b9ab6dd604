/** What the Discord bot's command modules need, and the small helpers they share. */
import { MessageFlags } from 'discord.js';
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

export function isAdminUser(deps: DiscordBotDeps, userId: string): boolean {
  return isAdmin(deps.adminIds, 'discord', userId);
}

export function canCancel(deps: DiscordBotDeps, job: JobInfo, userId: string): boolean {
  return (job.data.owner.platform === 'discord' && job.data.owner.userId === userId) || isAdminUser(deps, userId);
}
