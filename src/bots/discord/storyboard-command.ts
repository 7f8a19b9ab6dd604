/**
 * /storyboard duration:<s> topic:<text> [tier:<tier>]: the script only (the one paid call), as one
 * message with the numbered scenes, the estimated cost and time, and ▶️ Render, 🔁 New script,
 * ✏️ Edit (a modal: scene number, new line and/or picture) and ✖️ Cancel. Render queues an ordinary
 * job (the shared submission flow). An untouched storyboard expires: the message says so and loses
 * its buttons. Only the requester or an admin may press; others get a private answer.
 */
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  ModalBuilder,
  Routes,
  TextInputBuilder,
  TextInputStyle,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type ModalSubmitInteraction,
} from 'discord.js';
import type { DiscordTarget } from '../../core/chat-target.js';
import { toReelforgeError } from '../../core/errors.js';
import { validateVideoRequest, type VideoRequest } from '../../core/request.js';
import { applyChanges, storyboardRequest, type StoryboardChange } from '../../pipeline/storyboard.js';
import { errorText, storyboardTexts } from '../shared/i18n.js';
import { closedDraftText, draftKey, draftText, mayControl, readDraft, saveDraft, takeDraft, type Draft } from '../shared/storyboard-drafts.js';
import { submitVideo, withTierOverride } from '../shared/submit-video.js';
import { deferToTarget, ephemeral, noMentions, type DiscordBotDeps } from './deps.js';
import { MAX_CONTENT_CHARS } from './messages.js';
import { describeDiscordError } from './rest.js';

const PREFIX = 'reelforge:sb:';
const MODAL_ID = `${PREFIX}modal`;

export function isStoryboardComponent(customId: string): boolean {
  return customId.startsWith(PREFIX);
}

function draftRow(locale: string): ActionRowBuilder<ButtonBuilder> {
  const t = storyboardTexts(locale);
  return new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder().setCustomId(`${PREFIX}render`).setLabel(t.render).setStyle(ButtonStyle.Success),
    new ButtonBuilder().setCustomId(`${PREFIX}new`).setLabel(t.newScript).setStyle(ButtonStyle.Secondary),
    new ButtonBuilder().setCustomId(`${PREFIX}edit`).setLabel(t.editLine).setStyle(ButtonStyle.Primary),
    new ButtonBuilder().setCustomId(`${PREFIX}cancel`).setLabel(t.cancel).setStyle(ButtonStyle.Danger),
  );
}

const keyOf = (messageId: string): string => draftKey('discord', messageId);

/** Expiry timers of the drafts this process showed; cleared when the bot stops. */
const timers = new Map<string, NodeJS.Timeout>();

function scheduleExpiry(deps: DiscordBotDeps, rest: { patch(route: `/${string}`, options: { body: unknown }): Promise<unknown> }, channelId: string, messageId: string, draft: Draft): void {
  const key = keyOf(messageId);
  clearTimeout(timers.get(key));
  if (deps.stopping?.aborted) return;
  const timer = setTimeout(() => {
    timers.delete(key);
    void (async () => {
      const taken = await takeDraft(deps.settings, key, { expired: true });
      if (!taken) return;
      const content = closedDraftText(taken, storyboardTexts(taken.locale).expired, MAX_CONTENT_CHARS);
      await rest.patch(Routes.channelMessage(channelId, messageId), { body: { content, components: [], allowed_mentions: noMentions } });
    })().catch((error: unknown) => deps.log.warn('storyboard expiry edit failed', { channelId, error: describeDiscordError(error) })); // logged, never fatal
  }, Math.max(0, draft.expiresAt - Date.now()));
  timer.unref();
  timers.set(key, timer);
  deps.stopping?.addEventListener('abort', () => clearTimeout(timer), { once: true });
}

function body(draft: Draft, deps: DiscordBotDeps, note?: string): { content: string; components: Array<ActionRowBuilder<ButtonBuilder>>; allowedMentions: typeof noMentions } {
  const service = deps.storyboards!;
  return { content: draftText(draft, service.estimate(draft.storyboard), MAX_CONTENT_CHARS, note), components: [draftRow(draft.locale)], allowedMentions: noMentions };
}

export async function storyboardCommand(deps: DiscordBotDeps, i: ChatInputCommandInteraction): Promise<void> {
  const service = deps.storyboards;
  const owner = { platform: 'discord' as const, userId: i.user.id, chatId: i.channelId, displayName: i.user.username };
  let request: VideoRequest;
  try {
    if (!service) throw toReelforgeError(new Error('storyboards are not configured'));
    const raw = { duration: i.options.getInteger('duration') ?? undefined, topic: i.options.getString('topic') ?? '', tier: i.options.getString('tier') ?? undefined };
    request = await withTierOverride(deps, validateVideoRequest(raw), owner);
  } catch (thrown: unknown) {
    await i.reply({ content: errorText(toReelforgeError(thrown), i.locale), flags: ephemeral, allowedMentions: noMentions });
    return;
  }
  // The script takes longer than Discord's 3 s: the deferral is the storyboard message.
  const deferred = await i.deferReply({ withResponse: true });
  const messageId = deferred.resource?.message?.id;
  try {
    const written = await service.write(request, owner);
    const draft: Draft = { storyboard: written.storyboard, owner, scriptUsd: written.scriptUsd, locale: i.locale, expiresAt: Date.now() + service.expireMs, revision: 0 };
    if (messageId) await saveDraft(deps.settings, keyOf(messageId), draft);
    await i.editReply(body(draft, deps));
    if (messageId) scheduleExpiry(deps, i.client.rest, i.channelId, messageId, draft);
  } catch (thrown: unknown) {
    await i.editReply({ content: errorText(toReelforgeError(thrown), i.locale), components: [], allowedMentions: noMentions });
  }
}

export async function storyboardButton(deps: DiscordBotDeps, i: ButtonInteraction): Promise<void> {
  const service = deps.storyboards;
  const t = storyboardTexts(i.locale);
  const key = keyOf(i.message.id);
  const draft = await readDraft(deps.settings, key);
  if (!service || !draft) {
    // Expired while no process watched it (a restart): say so now and take the buttons away.
    await i.update({ content: `${t.expired}\n\n${i.message.content}`.slice(0, MAX_CONTENT_CHARS), components: [], allowedMentions: noMentions });
    return;
  }
  if (!mayControl(draft.owner, 'discord', i.user.id, deps.adminIds)) {
    await i.reply({ content: t.notYours, flags: ephemeral });
    return;
  }
  const action = i.customId.slice(PREFIX.length);
  if (action === 'edit') {
    const text = (id: string, label: string, style: TextInputStyle, required: boolean, max: number): ActionRowBuilder<TextInputBuilder> =>
      new ActionRowBuilder<TextInputBuilder>().addComponents(new TextInputBuilder().setCustomId(id).setLabel(label).setStyle(style).setRequired(required).setMaxLength(max));
    const labels = t.modal;
    await i.showModal(
      new ModalBuilder()
        .setCustomId(MODAL_ID)
        .setTitle(labels.title)
        .addComponents(
          text('scene', labels.scene, TextInputStyle.Short, true, 3),
          text('line', labels.line, TextInputStyle.Paragraph, false, 600),
          text('picture', labels.picture, TextInputStyle.Paragraph, false, 1000),
        ),
    );
    return;
  }
  if (action === 'cancel') {
    const taken = await takeDraft(deps.settings, key);
    clearTimeout(timers.get(key));
    await i.update({ content: closedDraftText(taken ?? draft, t.cancelled, MAX_CONTENT_CHARS), components: [], allowedMentions: noMentions });
    return;
  }
  if (action === 'new') {
    await i.deferUpdate();
    try {
      const written = await service.write(storyboardRequest(draft.storyboard), draft.owner, { take: draft.revision + 1 });
      const next: Draft = { ...draft, storyboard: written.storyboard, scriptUsd: draft.scriptUsd + written.scriptUsd, revision: draft.revision + 1, expiresAt: Date.now() + service.expireMs };
      await saveDraft(deps.settings, key, next);
      await i.editReply(body(next, deps));
      scheduleExpiry(deps, i.client.rest, i.channelId, i.message.id, next);
    } catch (thrown: unknown) {
      await i.followUp({ content: errorText(toReelforgeError(thrown), i.locale), flags: ephemeral, allowedMentions: noMentions });
    }
    return;
  }
  // Render: taken, so a second press (or a second admin) cannot make a second video.
  const taken = await takeDraft(deps.settings, key);
  if (!taken) {
    await i.reply({ content: t.gone, flags: ephemeral });
    return;
  }
  clearTimeout(timers.get(key));
  const outcome = await submitVideo<DiscordTarget>(deps, {
    raw: {},
    prepared: { request: storyboardRequest(taken.storyboard), storyboard: taken.storyboard },
    owner: taken.owner,
    idempotencyKey: `discord-storyboard:${i.message.id}:${taken.revision}`,
    notifier: deps.notifier,
    refuse: async (error) => {
      await saveDraft(deps.settings, key, taken);
      scheduleExpiry(deps, i.client.rest, i.channelId, i.message.id, taken);
      await i.reply({ content: errorText(error, i.locale), flags: ephemeral, allowedMentions: noMentions });
    },
    // A new message follows the job, as for /video; the storyboard message keeps the scenes.
    acknowledge: () => deferToTarget(deps, i),
  });
  if (outcome.kind === 'not_queued') {
    await saveDraft(deps.settings, key, taken);
    scheduleExpiry(deps, i.client.rest, i.channelId, i.message.id, taken);
  } else if (outcome.kind !== 'refused') {
    await i.message
      .edit({ content: closedDraftText(taken, t.rendering, MAX_CONTENT_CHARS), components: [], allowedMentions: noMentions })
      .catch((error: unknown) => deps.log.warn('storyboard message edit failed', { error: describeDiscordError(error) }));
  }
}

/** The ✏️ modal's answer: the scene's new line and/or picture; the storyboard message is updated in place. */
/**
 * The ✏️ modal's fields (scene number, new line, new picture; either or both) as storyboard changes,
 * for a storyboard and for a delivered video alike; undefined when the scene or both fields are missing.
 */
export function modalChanges(i: ModalSubmitInteraction): { scene: number; changes: StoryboardChange[] } | undefined {
  const scene = Number(i.fields.getTextInputValue('scene').trim().replace(/^#/, ''));
  const line = i.fields.getTextInputValue('line').trim();
  const picture = i.fields.getTextInputValue('picture').trim();
  const changes: StoryboardChange[] = [
    ...(line ? [{ kind: 'narration' as const, scene, text: line }] : []),
    ...(picture ? [{ kind: 'picture' as const, scene, text: picture }] : []),
  ];
  return Number.isInteger(scene) && scene >= 1 && changes.length > 0 ? { scene, changes } : undefined;
}

export async function storyboardModal(deps: DiscordBotDeps, i: ModalSubmitInteraction): Promise<void> {
  const service = deps.storyboards;
  const t = storyboardTexts(i.locale);
  const message = i.message;
  const draft = message ? await readDraft(deps.settings, keyOf(message.id)) : undefined;
  if (!service || !message || !draft) {
    await i.reply({ content: t.gone, flags: ephemeral });
    return;
  }
  if (!mayControl(draft.owner, 'discord', i.user.id, deps.adminIds)) {
    await i.reply({ content: t.notYours, flags: ephemeral });
    return;
  }
  const edit = modalChanges(i);
  if (!edit) {
    await i.reply({ content: t.editUsage, flags: ephemeral });
    return;
  }
  const { scene, changes } = edit;
  try {
    const edited: Draft = { ...draft, storyboard: applyChanges(draft.storyboard, changes), revision: draft.revision + 1 };
    await saveDraft(deps.settings, keyOf(message.id), edited);
    if (i.isFromMessage()) await i.update(body(edited, deps, t.edited(scene)));
    else await i.reply({ content: t.edited(scene), flags: ephemeral });
  } catch (thrown: unknown) {
    await i.reply({ content: errorText(toReelforgeError(thrown), i.locale), flags: ephemeral, allowedMentions: noMentions });
  }
}
