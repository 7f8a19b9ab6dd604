/**
 * The Notifier contract (test/contracts/notifier.ts) against both platforms' real notifiers, each
 * talking to its fake server: the Telegram Bot API and Discord REST.
 */
import type { DiscordTarget, TelegramTarget } from '../../src/core/chat-target.js';
import { DiscordNotifier } from '../../src/bots/discord/notifier.js';
import { TelegramNotifier } from '../../src/bots/telegram/notifier.js';
import { notifierContract, type NotifierRig, type ShownMessage } from '../contracts/notifier.js';
import { FakeDiscordServer, type StoredMessage } from '../fakes/discord-server.js';
import { FakeTelegramServer } from '../fakes/telegram-server.js';

notifierContract('telegram', async (): Promise<NotifierRig<TelegramTarget>> => {
  const fake = await FakeTelegramServer.start();
  const notifier = new TelegramNotifier({ token: fake.token, apiRoot: fake.apiRoot, minIntervalMs: { private: 0, group: 0 } });
  let nextUser = 4000;
  const live = (target: TelegramTarget) => fake.botMessages(target.chatId).filter((m) => !m.deleted);
  return {
    notifier,
    async newTarget() {
      const user = { id: nextUser++, first_name: 'Contract', language_code: 'en' };
      const chat = fake.privateChat(user);
      const request = fake.sendUserMessage(chat, user, '/video 10 The history of tea');
      const progress = await notifier.api.sendMessage(chat.id, '⏳ Got it, queuing your video…');
      return { platform: 'telegram', chatId: chat.id, replyToMessageId: request.messageId, progressMessageId: progress.message_id, locale: 'en' };
    },
    messages: (target) =>
      fake.botMessages(target.chatId).map((m) => ({ id: String(m.messageId), texts: m.versions.map((v) => v.text ?? v.caption ?? ''), deleted: m.deleted })),
    deleteProgress(target) {
      const current = live(target).at(-1);
      if (current) fake.deleteAsUser(target.chatId, current.messageId);
    },
    settle: () => notifier.idle(),
    close: () => fake.close(),
  };
});

notifierContract('discord', async (): Promise<NotifierRig<DiscordTarget>> => {
  const token = 'MTAwMDAwMDAwMDAwMDAwMDAy.fake.contract-token';
  const applicationId = '800000000000000002';
  const guildId = '700000000000000002';
  const channels = Array.from({ length: 8 }, (_, i) => ({ id: String(610000000000000000n + BigInt(i)), name: `c${i}` }));
  const fake = await FakeDiscordServer.start({ token, applicationId, guilds: [{ id: guildId, name: 'Contract', channels }] });
  // editIntervalMs 0: every progress call is written before it resolves, so the checks need no waiting.
  const notifier = new DiscordNotifier({ token, apiBase: fake.apiBase, editIntervalMs: 0 });
  const deleted: Array<{ channelId: string; message: StoredMessage }> = [];
  let nextChannel = 0;
  const shown = (message: StoredMessage, isDeleted: boolean): ShownMessage => ({
    id: message.id,
    texts: message.history.map((r) => r.content),
    deleted: isDeleted,
  });
  return {
    notifier,
    async newTarget() {
      const channelId = channels[nextChannel++]?.id ?? '';
      const record = fake.dispatchCommand({ name: 'video', from: { user: { id: '310000000000000077', username: 'contract' } }, guildId, channelId });
      // The bot's deferral, as discord.js sends it.
      const response = await fetch(`${fake.apiBase}/v10/interactions/${record.id}/${record.token}/callback?with_response=true`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 5 }),
      });
      if (!response.ok) throw new Error(`deferral failed: ${response.status}`);
      return {
        platform: 'discord',
        applicationId,
        interactionToken: record.token,
        interactionCreatedAt: record.createdAt,
        channelId,
        guildId,
        ...(record.originalMessageId ? { progressMessageId: record.originalMessageId } : {}),
        locale: 'en-US',
      };
    },
    messages: (target) =>
      [
        ...deleted.filter((d) => d.channelId === target.channelId).map((d) => shown(d.message, true)),
        ...fake.channelMessages(target.channelId).map((m) => shown(m, false)),
      ].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1)),
    deleteProgress(target) {
      const current = fake.channelMessages(target.channelId).at(-1);
      if (!current) return;
      fake.messages.delete(current.id);
      deleted.push({ channelId: target.channelId, message: current });
    },
    settle: () => Promise.resolve(),
    close: async () => {
      notifier.close();
      await fake.close();
    },
  };
});
