/** The fake Bot API itself answers like Telegram: these specs pin the behaviour the bot tests rely on. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegramServer } from '../../fakes/telegram-server.js';
import { alice } from './harness.js';

let fake: FakeTelegramServer;
beforeAll(async () => {
  fake = await FakeTelegramServer.start();
});
afterAll(async () => {
  await fake?.close();
});

async function call(method: string, params: Record<string, unknown> = {}, token = fake.token): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${fake.apiRoot}/bot${token}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(params),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('the fake Telegram Bot API', () => {
  it('answers 401 Unauthorized for a wrong token and 404 for an unknown method', async () => {
    expect(await call('getMe', {}, '1:wrong')).toEqual({ status: 401, body: { ok: false, error_code: 401, description: 'Unauthorized' } });
    expect((await call('sendUnicorn')).body).toMatchObject({ ok: false, error_code: 404 });
  });

  it('holds a long poll until an update arrives, and forgets updates confirmed by offset', async () => {
    const chat = fake.privateChat(alice);
    const started = Date.now();
    const poll = call('getUpdates', { timeout: 5 });
    setTimeout(() => fake.sendUserMessage(chat, alice, '/start'), 200);
    const { body } = await poll;
    const updates = body.result as { update_id: number; message: { text: string; entities: unknown[] } }[];
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(updates).toHaveLength(1);
    expect(updates[0]?.message).toMatchObject({ text: '/start', entities: [{ type: 'bot_command', offset: 0, length: 6 }] });

    const id = updates[0]!.update_id;
    expect(((await call('getUpdates', { offset: id })).body.result as unknown[]).length).toBe(1);
    expect((await call('getUpdates', { offset: id + 1 })).body.result).toEqual([]);
    // Confirmed for good: a later poll without offset does not see it again.
    expect((await call('getUpdates')).body.result).toEqual([]);
  });

  it('ends an empty long poll after its timeout', async () => {
    const started = Date.now();
    expect((await call('getUpdates', { timeout: 1, offset: 1_000_000 })).body.result).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('numbers messages per chat and gives the real edit errors', async () => {
    const chat = fake.privateChat({ ...alice, id: 7001 });
    const first = (await call('sendMessage', { chat_id: chat.id, text: 'a' })).body.result as { message_id: number };
    const second = (await call('sendMessage', { chat_id: chat.id, text: 'b' })).body.result as { message_id: number };
    expect(second.message_id).toBe(first.message_id + 1);
    expect((await call('editMessageText', { chat_id: chat.id, message_id: first.message_id, text: 'a' })).body).toEqual({
      ok: false,
      error_code: 400,
      description:
        'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
    });
    expect((await call('editMessageText', { chat_id: chat.id, message_id: 999, text: 'x' })).body.description).toBe('Bad Request: message to edit not found');
    expect((await call('sendMessage', { chat_id: 424242, text: 'x' })).body.description).toBe('Bad Request: chat not found');
    expect((await call('sendMessage', { chat_id: chat.id, text: 'x', message_thread_id: 5 })).body.description).toBe('Bad Request: message thread not found');
  });

  it('answers 429 with retry_after when edits to one chat come faster than allowed', async () => {
    const chat = fake.privateChat({ ...alice, id: 7002 });
    const sent = (await call('sendMessage', { chat_id: chat.id, text: 'a' })).body.result as { message_id: number };
    fake.minEditIntervalMs = 1000;
    try {
      expect((await call('editMessageText', { chat_id: chat.id, message_id: sent.message_id, text: 'b' })).status).toBe(200);
      expect(await call('editMessageText', { chat_id: chat.id, message_id: sent.message_id, text: 'c' })).toEqual({
        status: 429,
        body: { ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } },
      });
    } finally {
      fake.minEditIntervalMs = undefined;
    }
  });
});
