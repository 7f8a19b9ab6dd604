/**
 * The whole service as an operator runs it: `reelforge bot` as a child process, with the offline
 * pipeline, the local durable queue and real ffmpeg, talking to the fake Telegram Bot API.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegramServer, type FakeUser, type StoredMessage } from '../fakes/telegram-server.js';

const run = promisify(execFile);
const bin = resolve('bin/reelforge.mjs');

let fake: FakeTelegramServer;
let dataDir: string;
const children: ChildProcess[] = [];

function startBot(): { child: ChildProcess; output: () => string } {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(OPENAI_|TELEGRAM_|DISCORD_|REDIS_URL|ROLE|ADMIN_IDS)/.test(k)) env[k] = v;
  const child = spawn(process.execPath, [bin, 'bot'], {
    env: { ...env, TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.apiRoot, DATA_DIR: dataDir, ADMIN_IDS: 'telegram:1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  children.push(child);
  return { child, output: () => output };
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number, log?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${log?.() ?? ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function videos(chatId: number): StoredMessage[] {
  return fake.botMessages(chatId).filter((m) => m.upload?.method === 'sendVideo');
}

async function probeDuration(bytes: Buffer): Promise<{ duration: number; codecs: string[] }> {
  const path = join(dataDir, `probe-${Date.now()}.mp4`);
  await writeFile(path, bytes);
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name:format=duration', '-of', 'json', path]);
  const parsed = JSON.parse(stdout) as { streams: Array<{ codec_name: string }>; format: { duration: string } };
  return { duration: Number(parsed.format.duration), codecs: parsed.streams.map((s) => s.codec_name).sort() };
}

beforeAll(async () => {
  fake = await FakeTelegramServer.start();
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited(child);
  }
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
    const probe = await probeDuration(video!.upload!.file('video')!.bytes);
    expect(probe.codecs).toEqual(['aac', 'h264']);
    expect(probe.duration).toBeGreaterThan(8);
    expect(probe.duration).toBeLessThan(20);
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
  }, 300_000);

  it('resumes a job after the process is killed mid-render and delivers exactly one video', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'reelforge-service-'));
    const first = startBot();
    const user: FakeUser = { id: 77, first_name: 'Boris', language_code: 'ru' };
    const chat = fake.privateChat(user);
    fake.sendUserMessage(chat, user, '/video 12 История чая');
    // Wait until the job is running (the progress message shows stages), then kill the process hard.
    await waitFor(
      'the job to start',
      () => fake.botMessages(chat.id).find((m) => m.versions.length >= 3),
      120_000,
      first.output,
    );
    first.child.kill('SIGKILL');
    await exited(first.child);

    const second = startBot();
    const delivered = await waitFor('the video after restart', () => (videos(chat.id).length > 0 ? videos(chat.id) : undefined), 240_000, second.output);
    // Give a duplicate a moment to show up if there were one.
    await new Promise((r) => setTimeout(r, 2000));
    expect(videos(chat.id)).toHaveLength(1);
    const probe = await probeDuration(delivered[0]!.upload!.file('video')!.bytes);
    expect(probe.duration).toBeGreaterThan(9);
    expect(fake.botMessages(chat.id).filter((m) => !m.upload)).toHaveLength(1);
  }, 400_000);
});
