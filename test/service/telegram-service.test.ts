/**
 * The whole service as an operator runs it: `reelforge bot` as a child process, with the offline
 * pipeline, the local durable queue and real ffmpeg, talking to the fake Telegram Bot API.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegramServer, type FakeUser, type StoredMessage } from '../fakes/telegram-server.js';
import { exited, startReelforge, stopAll, type Service } from '../helpers/reelforge-process.js';
import { probeBytes } from '../helpers/ffprobe.js';
import { waitFor } from '../helpers/wait-for.js';

let fake: FakeTelegramServer;
let dataDir: string;
const children: ChildProcess[] = [];

function startBot(): Service {
  return startReelforge(['bot'], { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.apiRoot, DATA_DIR: dataDir, ADMIN_IDS: 'telegram:1' }, children);
}

function videos(chatId: number): StoredMessage[] {
  return fake.botMessages(chatId).filter((m) => m.upload?.method === 'sendVideo');
}

beforeAll(async () => {
  fake = await FakeTelegramServer.start();
});
afterEach(async () => {
  await stopAll(children);
  await rm(dataDir, { recursive: true, force: true });
});
afterAll(async () => {
  await fake.close();
});

describe('reelforge bot (Telegram, local queue, offline pipeline)', () => {
  it('answers /video in a private chat with one edited progress message and the video, then shuts down cleanly', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'reelforge-service-'));
    const bot = startBot();
    // Updates wait in the fake until the bot's long poll collects them.
    const user: FakeUser = { id: 42, first_name: 'Ann', language_code: 'en' };
    const chat = fake.privateChat(user);
    const request = fake.sendUserMessage(chat, user, '/video 10 The history of tea');

    const [video] = await waitFor('the video', () => (videos(chat.id).length > 0 ? videos(chat.id) : undefined), 240_000, bot.output);
    const probe = await probeBytes(video!.upload!.file('video')!.bytes, dataDir);
    expect(probe.codecs).toEqual(['aac', 'h264']);
    expect(probe.durationSec).toBeGreaterThan(8);
    expect(probe.durationSec).toBeLessThan(20);
    expect(video!.upload!.fields.supports_streaming).toBe('true');
    expect(video!.upload!.file('thumbnail')).toBeDefined();
    expect(video!.versions[0]!.caption).toMatch(/history of tea/i);

    // Exactly one progress message, a reply to the request, edited in place through the stages.
    const texts = fake.botMessages(chat.id).filter((m) => !m.upload);
    expect(texts).toHaveLength(1);
    expect(texts[0]!.replyToMessageId).toBe(request.messageId);
    expect(texts[0]!.versions.length).toBeGreaterThanOrEqual(3);
    expect(texts[0]!.versions.some((v) => /offline/i.test(v.text ?? ''))).toBe(true);

    bot.child.kill('SIGTERM');
    expect(await exited(bot.child)).toBe(0);
    expect(bot.output()).not.toContain(fake.token);
    // Logs are JSON lines (stderr is not a terminal here), and every line of the job names it.
    const entries = bot
      .output()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries.every((e) => typeof e.time === 'string' && typeof e.level === 'string' && typeof e.msg === 'string')).toBe(true);
    const jobLines = entries.filter((e) => e.jobId !== undefined);
    expect(jobLines.map((e) => e.msg)).toEqual(expect.arrayContaining(['job started', 'video rendered', 'job completed']));
    expect(jobLines.every((e) => e.platform === 'telegram' && e.user === '42' && e.chat === String(chat.id))).toBe(true);
  }, 300_000);

  it('resumes a job after the process is killed mid-render and delivers exactly one video', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'reelforge-service-'));
    const first = startBot();
    const user: FakeUser = { id: 77, first_name: 'Boris', language_code: 'ru' };
    const chat = fake.privateChat(user);
    fake.sendUserMessage(chat, user, '/video 12 История чая');
    // Wait until the job is running (the progress message shows stages), then kill the process hard.
    await waitFor('the job to start', () => fake.botMessages(chat.id).find((m) => m.versions.length >= 3), 120_000, first.output);
    first.child.kill('SIGKILL');
    await exited(first.child);

    const second = startBot();
    const delivered = await waitFor('the video after restart', () => (videos(chat.id).length > 0 ? videos(chat.id) : undefined), 240_000, second.output);
    // Give a duplicate a moment to show up if there were one.
    await new Promise((r) => setTimeout(r, 2000));
    expect(videos(chat.id)).toHaveLength(1);
    const probe = await probeBytes(delivered[0]!.upload!.file('video')!.bytes, dataDir);
    expect(probe.durationSec).toBeGreaterThan(9);
    expect(fake.botMessages(chat.id).filter((m) => !m.upload)).toHaveLength(1);
  }, 400_000);

  it('a /video whose handler was still answering when the bot was SIGKILLed is delivered after the restart (the update was not confirmed)', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'reelforge-service-'));
    const first = startBot();
    await waitFor('the first bot to start', () => (/telegram bot started/.test(first.output()) ? true : undefined), 60_000, first.output);
    const user: FakeUser = { id: 88, first_name: 'Cleo', language_code: 'en' };
    const chat = fake.privateChat(user);
    // The acknowledgement hangs (a dropped connection after 8 s): the handler has not enqueued yet.
    fake.faultPlan = (method, params) => (method === 'sendMessage' && Number(params.chat_id) === chat.id ? { timeoutMs: 8000 } : undefined);
    fake.sendUserMessage(chat, user, '/video 10 Tea in the mountains');
    const hanging = await fake.waitFor(
      () => fake.calls.find((c) => c.method === 'sendMessage' && Number(c.params.chat_id) === chat.id),
      60_000,
      'the hanging acknowledgement',
    );
    // The bot polls again meanwhile (@grammyjs/runner's next poll confirmed the update here).
    await fake.waitFor(() => fake.calls.find((c) => c.method === 'getUpdates' && c.at > hanging.at), 30_000, 'the next poll');
    first.child.kill('SIGKILL');
    await exited(first.child);
    fake.faultPlan = undefined;

    const second = startBot();
    const delivered = await waitFor('the video after restart', () => (videos(chat.id).length > 0 ? videos(chat.id) : undefined), 240_000, second.output);
    expect(delivered).toHaveLength(1);
    expect(fake.botMessages(chat.id).filter((m) => !m.upload)).toHaveLength(1);
  }, 400_000);
});
