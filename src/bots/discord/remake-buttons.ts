/**
 * The buttons under a delivered video in Discord: 🔁 Re-roll a scene (a private row of scene numbers:
 * a new picture for the one picked), ✏️ Edit a line (a modal: scene, new line and/or picture), 🎙 Voice
 * (a private row of voices: every line spoken again). Each is an ordinary job (admission, fairness,
 * limits) making only what the change made stale; its progress message becomes the new video in the
 * same channel. Only the requester or an admin may use them; others get a private answer.
 */
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  ModalBuilder,
  TextInputBuilder,
  TextInputStyle,
  type ButtonInteraction,
  type ModalSubmitInteraction,
} from 'discord.js';
import type { DiscordTarget } from '../../core/chat-target.js';
import { toReelforgeError } from '../../core/errors.js';
import { readKeptStoryboard, type KeptStoryboard } from '../../jobs/job-storyboards.js';
import { applyChanges, storyboardRequest, type StoryboardChange } from '../../pipeline/storyboard.js';
import { errorText, storyboardTexts } from '../shared/i18n.js';
import { mayControl } from '../shared/storyboard-drafts.js';
import { submitVideo } from '../shared/submit-video.js';
import { deferToTarget, ephemeral, noMentions, type DiscordBotDeps } from './deps.js';
import { modalChanges } from './storyboard-command.js';
import { REMAKE_PREFIX } from './messages.js';

const ACTION = /^reelforge:rm:(roll|edit|voice|scene|use|modal):([A-Za-z0-9]+)(?::(.+))?$/;

export function isRemakeComponent(customId: string): boolean {
  return customId.startsWith(REMAKE_PREFIX);
}

/** Buttons in rows of five (Discord's limit), at most five rows. */
function buttonRows(buttons: ButtonBuilder[]): Array<ActionRowBuilder<ButtonBuilder>> {
  const rows: Array<ActionRowBuilder<ButtonBuilder>> = [];
  for (let i = 0; i < Math.min(buttons.length, 25); i += 5) rows.push(new ActionRowBuilder<ButtonBuilder>().addComponents(buttons.slice(i, i + 5)));
  return rows;
}

type Remakeable = ButtonInteraction | ModalSubmitInteraction;

async function queueRemake(deps: DiscordBotDeps, i: Remakeable, jobId: string, kept: KeptStoryboard, changes: StoryboardChange[]): Promise<void> {
  await submitVideo<DiscordTarget>(deps, {
    raw: {},
    prepared: { request: storyboardRequest(applyChanges(kept.storyboard, changes)), remake: { fromJobId: jobId, changes } },
    owner: { platform: 'discord', userId: i.user.id, chatId: i.channelId ?? '', displayName: i.user.username },
    idempotencyKey: `discord:${i.id}`,
    notifier: deps.notifier,
    refuse: async (error) => {
      await i.reply({ content: errorText(error, i.locale), flags: ephemeral, allowedMentions: noMentions });
    },
    acknowledge: () => deferToTarget(deps, i),
  });
}

/** Reads the kept storyboard and checks who presses; answers privately and returns undefined when it may not go on. */
async function allowed(deps: DiscordBotDeps, i: Remakeable, jobId: string): Promise<KeptStoryboard | undefined> {
  const kept = await readKeptStoryboard(deps.settings, jobId);
  if (!kept) {
    await i.reply({ content: errorText({ code: 'bad_input', params: { reason: 'storyboard_expired' } }, i.locale), flags: ephemeral });
    return undefined;
  }
  if (!mayControl(kept.owner, 'discord', i.user.id, deps.adminIds)) {
    await i.reply({ content: storyboardTexts(i.locale).notYours, flags: ephemeral });
    return undefined;
  }
  return kept;
}

export async function remakeButton(deps: DiscordBotDeps, i: ButtonInteraction): Promise<void> {
  const match = ACTION.exec(i.customId);
  const service = deps.storyboards;
  if (!match || !service) {
    await i.deferUpdate();
    return;
  }
  const [, action, jobId = '', arg] = match;
  const kept = await allowed(deps, i, jobId);
  if (!kept) return;
  const t = storyboardTexts(i.locale);
  if (action === 'roll') {
    const scenes = Array.from({ length: kept.scenes }, (_, n) =>
      new ButtonBuilder().setCustomId(`${REMAKE_PREFIX}scene:${jobId}:${n + 1}`).setLabel(String(n + 1)).setStyle(ButtonStyle.Secondary),
    );
    await i.reply({ content: t.pickScene, components: buttonRows(scenes), flags: ephemeral });
    return;
  }
  if (action === 'voice') {
    const voices = service.voices.map((voice) => new ButtonBuilder().setCustomId(`${REMAKE_PREFIX}use:${jobId}:${voice}`).setLabel(voice).setStyle(ButtonStyle.Secondary));
    await i.reply({ content: t.pickVoice, components: buttonRows(voices), flags: ephemeral });
    return;
  }
  if (action === 'edit') {
    const input = (id: string, label: string, style: TextInputStyle, required: boolean, max: number): ActionRowBuilder<TextInputBuilder> =>
      new ActionRowBuilder<TextInputBuilder>().addComponents(new TextInputBuilder().setCustomId(id).setLabel(label).setStyle(style).setRequired(required).setMaxLength(max));
    await i.showModal(
      new ModalBuilder()
        .setCustomId(`${REMAKE_PREFIX}modal:${jobId}`)
        .setTitle(t.modal.title)
        .addComponents(
          input('scene', t.modal.scene, TextInputStyle.Short, true, 3),
          input('line', t.modal.line, TextInputStyle.Paragraph, false, 600),
          input('picture', t.modal.picture, TextInputStyle.Paragraph, false, 1000),
        ),
    );
    return;
  }
  const change: StoryboardChange | undefined =
    action === 'scene' ? { kind: 'reroll', scene: Number(arg) } : action === 'use' && arg && service.voices.includes(arg) ? { kind: 'voice', voice: arg } : undefined;
  if (!change) {
    await i.reply({ content: t.gone, flags: ephemeral });
    return;
  }
  try {
    await queueRemake(deps, i, jobId, kept, [change]);
  } catch (thrown: unknown) {
    await i.reply({ content: errorText(toReelforgeError(thrown), i.locale), flags: ephemeral, allowedMentions: noMentions });
  }
}

/** The ✏️ modal under a video: the scene's new line and/or picture, as a re-make. */
export async function remakeModal(deps: DiscordBotDeps, i: ModalSubmitInteraction): Promise<void> {
  const jobId = ACTION.exec(i.customId)?.[2] ?? '';
  const kept = await allowed(deps, i, jobId);
  if (!kept) return;
  const changes = modalChanges(i)?.changes;
  if (!changes) {
    await i.reply({ content: storyboardTexts(i.locale).editUsage, flags: ephemeral });
    return;
  }
  try {
    await queueRemake(deps, i, jobId, kept, changes);
  } catch (thrown: unknown) {
    await i.reply({ content: errorText(toReelforgeError(thrown), i.locale), flags: ephemeral, allowedMentions: noMentions });
  }
}
