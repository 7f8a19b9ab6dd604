/** The soak's fault knobs on the fake Bot API answer as Telegram does, seen through grammY's own client. */
import { Api, GrammyError, HttpError } from 'grammy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegramServer } from '../../fakes/telegram-server.js';
import { alice } from './harness.js';

let fake: FakeTelegramServer;
let api: Api;
beforeAll(async () => {
  fake = await FakeTelegramServer.start();
  api = new Api(fake.token, { apiRoot: fake.apiRoot });
});
afterAll(async () => {
  await fake?.close();
});

describe('fault knobs of the fake Telegram Bot API', () => {
  it('a fault plan answers 429 with retry_after, and a timeout drops the call unprocessed', async () => {
    const chat = fake.privateChat(alice);
    let next: 'rate' | 'timeout' | undefined = 'rate';
    fake.faultPlan = (method) => {
      if (method !== 'sendMessage' || !next) return undefined;
      const fault = next === 'rate' ? { error_code: 429, description: 'Too Many Requests: retry after 2', parameters: { retry_after: 2 } } : { timeoutMs: 100 };
      next = next === 'rate' ? 'timeout' : undefined;
      return fault;
    };
    try {
      const limited = await api.sendMessage(chat.id, 'one').catch((error: unknown) => error);
      expect(limited).toBeInstanceOf(GrammyError);
      expect((limited as GrammyError).error_code).toBe(429);
      expect((limited as GrammyError).parameters.retry_after).toBe(2);
      const dropped = await api.sendMessage(chat.id, 'two').catch((error: unknown) => error);
      expect(dropped).toBeInstanceOf(HttpError);
      expect(fake.botMessages(chat.id)).toHaveLength(0);
      await api.sendMessage(chat.id, 'three');
      expect(fake.botMessages(chat.id).map((m) => m.versions[0]?.text)).toEqual(['three']);
    } finally {
      fake.faultPlan = undefined;
    }
  });

  it('after removeBot every call naming the chat gets 403 with Telegram\'s texts', async () => {
    const group = fake.group(-4242, 'Club');
    const supergroup = fake.group(-1004243, 'Big club', { supergroup: true });
    const chat = fake.privateChat({ ...alice, id: 4244 });
    const sent = await api.sendMessage(group.id, 'hello');
    for (const c of [group, supergroup, chat]) fake.removeBot(c.id);
    const texts = await Promise.all(
      [api.editMessageText(group.id, sent.message_id, 'edited'), api.sendMessage(supergroup.id, 'hi'), api.sendMessage(chat.id, 'hi')].map((p) =>
        p.then(
          () => 'ok',
          (error: unknown) => (error instanceof GrammyError ? `${error.error_code} ${error.description}` : String(error)),
        ),
      ),
    );
    expect(texts).toEqual([
      '403 Forbidden: bot was kicked from the group chat',
      '403 Forbidden: bot was kicked from the supergroup chat',
      '403 Forbidden: bot was blocked by the user',
    ]);
  });
});
