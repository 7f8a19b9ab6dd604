/**
 * The Bot API client's retry policy, seen through grammY against the fake Bot API: a dropped
 * connection is retried a few times with backoff, then fails, so a chat whose Telegram is unreachable
 * gets a clear retryable error instead of a call that waits forever.
 */
import { HttpError } from 'grammy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NETWORK_RETRY_DELAYS_MS, createTelegramApi } from '../../../src/bots/telegram/api.js';
import { FakeTelegramServer } from '../../fakes/telegram-server.js';
import { alice } from './harness.js';

let fake: FakeTelegramServer;
beforeAll(async () => {
  fake = await FakeTelegramServer.start();
});
afterAll(async () => {
  await fake?.close();
});

describe('the Bot API retry policy', () => {
  it('retries a dropped connection with backoff and delivers once', async () => {
    const chat = fake.privateChat({ ...alice, id: 5101 });
    const api = createTelegramApi({ token: fake.token, apiRoot: fake.apiRoot });
    let drops = 2;
    fake.faultPlan = (method) => (method === 'sendMessage' && drops-- > 0 ? { timeoutMs: 50 } : undefined);
    try {
      await api.sendMessage(chat.id, 'hello');
    } finally {
      fake.faultPlan = undefined;
    }
    const attempts = fake.calls.filter((c) => c.method === 'sendMessage' && Number(c.params.chat_id) === chat.id);
    expect(attempts.map((c) => c.status)).toEqual([0, 0, 200]);
    // The second attempt waited the first delay, the third the second.
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(NETWORK_RETRY_DELAYS_MS[0]);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(NETWORK_RETRY_DELAYS_MS[1]);
    expect(fake.botMessages(chat.id).map((m) => m.versions[0]?.text)).toEqual(['hello']);
  });

  it('gives up on a Telegram that stays unreachable, with an HttpError, after a bounded number of tries', async () => {
    const chat = fake.privateChat({ ...alice, id: 5102 });
    const api = createTelegramApi({ token: fake.token, apiRoot: fake.apiRoot });
    fake.faultPlan = (method) => (method === 'editMessageText' || method === 'sendMessage' ? { timeoutMs: 20 } : undefined);
    try {
      const error = await api.sendMessage(chat.id, 'into the void').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HttpError);
    } finally {
      fake.faultPlan = undefined;
    }
    const attempts = fake.calls.filter((c) => c.method === 'sendMessage' && Number(c.params.chat_id) === chat.id);
    expect(attempts).toHaveLength(NETWORK_RETRY_DELAYS_MS.length + 1);
    expect(fake.botMessages(chat.id)).toHaveLength(0);
  }, 20_000);
});
