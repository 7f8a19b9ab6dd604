/** /help: what the bot does, with examples, privately, in the user's language. */
import type { ChatInputCommandInteraction } from 'discord.js';
import { botTexts } from '../shared/i18n.js';
import { ephemeral, isAdminUser, type DiscordBotDeps } from './deps.js';

export async function helpCommand(deps: DiscordBotDeps, i: ChatInputCommandInteraction): Promise<void> {
  await i.reply({ content: botTexts(i.locale).help({ style: 'discord', isAdmin: isAdminUser(deps, i.user.id) }), flags: ephemeral });
}
