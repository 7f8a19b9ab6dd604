/**
 * /video duration:<s> topic:<text> [tier:<tier>] [captions:<style>]: the shared submission flow, with Discord's
 * answers: bad options get a private reply, the deferral is the progress message.
 */
import type { ChatInputCommandInteraction } from 'discord.js';
import type { DiscordTarget } from '../../core/chat-target.js';
import { errorText } from '../shared/i18n.js';
import { submitVideo } from '../shared/submit-video.js';
import { deferToTarget, ephemeral, noMentions, type DiscordBotDeps } from './deps.js';

export async function videoCommand(deps: DiscordBotDeps, i: ChatInputCommandInteraction): Promise<void> {
  await submitVideo<DiscordTarget>(deps, {
    raw: {
      duration: i.options.getInteger('duration') ?? undefined,
      topic: i.options.getString('topic') ?? '',
      tier: i.options.getString('tier') ?? undefined,
      captions: i.options.getString('captions') ?? undefined,
    },
    owner: { platform: 'discord', userId: i.user.id, chatId: i.channelId, displayName: i.user.username },
    idempotencyKey: `discord:${i.id}`,
    notifier: deps.notifier,
    // Validation is synchronous and cheap, so bad options get a private answer instead of a public deferral.
    refuse: async (error) => {
      await i.reply({ content: errorText(error, i.locale), flags: ephemeral, allowedMentions: noMentions });
    },
    acknowledge: async () => {
      const target = await deferToTarget(deps, i);
      deps.log.info('discord /video deferred', { interactionId: i.id, ackMs: Date.now() - i.createdTimestamp });
      return target;
    },
  });
}
