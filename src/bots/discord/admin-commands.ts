/** Admin commands: /tier, /stats, /queue. Anyone else gets a polite refusal. */
import type { ChatInputCommandInteraction } from 'discord.js';
import { ReelforgeError } from '../../core/errors.js';
import { isTier } from '../../core/tiers.js';
import type { TierChoice, TierScope } from '../../store/settings.js';
import { formatQueue, formatStats } from '../shared/admin.js';
import { botTexts } from '../shared/i18n.js';
import { ephemeral, isAdminUser, noMentions, type DiscordBotDeps } from './deps.js';
import { clampContent, MAX_CONTENT_CHARS } from './messages.js';

export const ADMIN_COMMANDS: ReadonlySet<string> = new Set(['tier', 'stats', 'queue']);

export async function adminCommand(deps: DiscordBotDeps, i: ChatInputCommandInteraction): Promise<void> {
  const t = botTexts(i.locale);
  if (!isAdminUser(deps, i.user.id)) {
    await i.reply({ content: t.adminOnly, flags: ephemeral });
    return;
  }
  switch (i.commandName) {
    case 'stats': {
      const [queueStats, usage] = await Promise.all([deps.queue.stats(), deps.settings.stats()]);
      await i.reply({ content: clampContent(formatStats(queueStats, usage, i.locale)), flags: ephemeral });
      return;
    }
    case 'queue':
      await i.reply({ content: formatQueue(await deps.queue.list(), i.locale, MAX_CONTENT_CHARS), flags: ephemeral, allowedMentions: noMentions });
      return;
    default:
      return tierCommand(deps, i);
  }
}

async function tierCommand(deps: DiscordBotDeps, i: ChatInputCommandInteraction): Promise<void> {
  const tier = i.options.getString('tier', true);
  if (tier !== 'auto' && !isTier(tier)) {
    throw new ReelforgeError('bad_input', 'Unknown tier.', { params: { reason: 'tier' } });
  }
  const choice: TierChoice = tier;
  let scope: TierScope;
  let label: string;
  if (i.options.getSubcommand(true) === 'user') {
    const user = i.options.getUser('user', true);
    scope = { kind: 'user', platform: 'discord', userId: user.id };
    label = `<@${user.id}>`;
  } else {
    const channelId = i.options.getChannel('channel')?.id ?? i.channelId;
    scope = { kind: 'chat', platform: 'discord', chatId: channelId };
    label = `<#${channelId}>`;
  }
  await deps.settings.setTier(scope, choice);
  await i.reply({ content: botTexts(i.locale).tierSet(label, choice), flags: ephemeral, allowedMentions: noMentions });
}
