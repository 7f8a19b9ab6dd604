import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelegramBot, type RunningTelegramBot } from '../../../src/bots/telegram/run.js';
import { MemorySettingsStore } from '../../../src/store/memory-settings-store.js';
import { LocalJobQueue } from '../../../src/queue/local-queue.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeTelegramServer } from '../../fakes/telegram-server.js';
import { alice } from './harness.js';

describe('webhook mode', () => {
  let fake: FakeTelegramServer;
  let running: RunningTelegramBot;
  let queue: LocalJobQueue;
  let dir: string;
  const secret = 'hook-secret-42';

  beforeAll(async () => {
    fake = await FakeTelegramServer.start();
    dir = await mkdtemp(join(tmpdir(), 'reelforge-webhook-'));
    queue = await LocalJobQueue.open({ dir });
    running = await startTelegramBot({
      token: fake.token,
      apiRoot: fake.apiRoot,
      queue,
      settings: new MemorySettingsStore(),
      adminIds: new Set(),
      mode: { kind: 'webhook', url: 'https://bot.example/telegram', secret, port: 0, host: '127.0.0.1' },
    });
  });
  afterAll(async () => {
    await running?.stop();
    await queue?.close();
    await fake?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const update = (text: string, chatId: number) => ({
    update_id: 1,
    message: { message_id: 1, date: 0, chat: { id: chatId, type: 'private', first_name: 'Alice' }, from: alice, text, entities: [{ type: 'bot_command', offset: 0, length: text.length }] },
  });
  const post = (body: unknown, token?: string, timeoutMs = 8000) =>
    fetch(`http://127.0.0.1:${running.port}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { 'x-telegram-bot-api-secret-token': token } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });

  it('registers the webhook with its secret token', () => {
    const call = fake.calls.find((c) => c.method === 'setWebhook');
    expect(call?.params).toMatchObject({ url: 'https://bot.example/telegram', secret_token: secret });
  });

  it('refuses an update without the right secret and handles one with it', async () => {
    const chat = fake.privateChat(alice);
    expect((await post(update('/help', chat.id), 'wrong')).status).toBe(401);
    expect((await post(update('/help', chat.id))).status).toBe(401);
    expect(fake.botMessages(chat.id)).toHaveLength(0);

    expect((await post(update('/help', chat.id), secret)).status).toBe(200);
    const reply = await fake.waitFor(() => fake.botMessages(chat.id)[0], 5000, 'the help reply');
    expect(reply.versions[0]?.text).toContain('narrated vertical short video');
  });

  it('answers a slow update only once it is handled (a crash before then means a redelivery), without an unhandled rejection', async () => {
    // grammY's webhookCallback used to reject after 10 s here (nothing handled it: the process died);
    // then updates were acknowledged before handling, so a crash meanwhile lost them.
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => {
      rejections.push(reason);
    };
    process.on('unhandledRejection', onRejection);
    try {
      const chat = fake.privateChat({ ...alice, id: alice.id + 1 });
      fake.tooManyRequests('sendMessage', 15);
      const response = await post({ ...update('/help', chat.id), update_id: 2 }, secret, 60_000);
      expect(response.status).toBe(200);
      // Answered after the reply went out, past the 429's 15 s.
      expect(fake.botMessages(chat.id)).toHaveLength(1);
      expect(fake.botMessages(chat.id)[0]!.versions[0]?.text).toContain('narrated vertical short video');
      expect(fake.calls.filter((c) => c.method === 'sendMessage' && c.status === 429)).toHaveLength(1);
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  }, 60_000);

  it('handles an update once when Telegram delivers it again while it is in flight, and answers a later redelivery at once', async () => {
    const chat = fake.privateChat({ ...alice, id: alice.id + 2 });
    fake.tooManyRequests('sendMessage', 3);
    const body = { ...update('/help', chat.id), update_id: 3 };
    const [first, second] = await Promise.all([post(body, secret, 30_000), post(body, secret, 30_000)]);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(fake.botMessages(chat.id)).toHaveLength(1);
    expect((await post(body, secret)).status).toBe(200);
    expect(fake.botMessages(chat.id)).toHaveLength(1);
  }, 60_000);
});
