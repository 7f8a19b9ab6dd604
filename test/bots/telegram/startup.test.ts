/**
 * Start-up and supervision of the Telegram bot against the fake Bot API: the command menu never
 * holds or stops start-up, and what no retry can fix (401, 409) is reported with its cause.
 */
import { createLogger } from '../../../src/log.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTelegramBot, type RunningTelegramBot, type StartTelegramBotOptions } from '../../../src/bots/telegram/run.js';
import type { ReelforgeError } from '../../../src/core/errors.js';
import { LocalJobQueue } from '../../../src/queue/local-queue.js';
import { MemorySettingsStore } from '../../../src/store/memory-settings-store.js';
import { FakeTelegramServer } from '../../fakes/telegram-server.js';
import { alice } from './harness.js';

let fake: FakeTelegramServer;
let queue: LocalJobQueue;
let dir: string;
const running: RunningTelegramBot[] = [];
const logs: string[] = [];

beforeEach(async () => {
  fake = await FakeTelegramServer.start();
  dir = await mkdtemp(join(tmpdir(), 'reelforge-tg-start-'));
  queue = await LocalJobQueue.open({ dir });
  logs.length = 0;
});
afterEach(async () => {
  for (const bot of running.splice(0)) await bot.stop();
  await queue.close();
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

async function start(extra: Partial<StartTelegramBotOptions> = {}): Promise<RunningTelegramBot> {
  const bot = await startTelegramBot({
    token: fake.token,
    apiRoot: fake.apiRoot,
    queue,
    settings: new MemorySettingsStore(),
    adminIds: new Set(),
    mode: { kind: 'polling', timeoutSec: 2 },
    log: createLogger('debug', [], (line) => logs.push(line)),
    ...extra,
  });
  running.push(bot);
  return bot;
}

async function answersHelp(): Promise<void> {
  const chat = fake.privateChat(alice);
  fake.sendUserMessage(chat, alice, '/help');
  const reply = await fake.waitFor(() => fake.botMessages(chat.id)[0], 10_000, 'the /help reply');
  expect(reply.versions[0]?.text).toContain('narrated vertical short video');
}

describe('the command menu at start-up', () => {
  it('a refused setMyCommands does not stop the bot: it is logged and retried in the background', async () => {
    fake.failNext('setMyCommands', { error_code: 400, description: 'Bad Request: BOT_COMMAND_INVALID' });
    const bot = await start({ commandsRetry: { firstDelayMs: 50 } });
    await answersHelp();
    expect(await bot.commandsRegistered).toBe('done');
    expect(fake.commands.get('default:')?.map((c) => c.command)).toEqual(['video', 'storyboard', 'help', 'start']);
    expect(fake.commands.get('default:ru')).toHaveLength(4);
    expect(logs.some((l) => l.includes('register the Telegram command menu: failed') && l.includes('BOT_COMMAND_INVALID'))).toBe(true);
  });

  it('a hanging setMyCommands does not hold start-up: the attempt is abandoned and retried', async () => {
    fake.hangNext('setMyCommands');
    const bot = await start({ commandsRetry: { attemptTimeoutMs: 300, firstDelayMs: 50 } });
    await answersHelp();
    expect(await bot.commandsRegistered).toBe('done');
    expect(fake.commands.get('default:')).toHaveLength(4);
    expect(logs.some((l) => l.includes('register the Telegram command menu: failed'))).toBe(true);
  });

  it('gives up after its deadline, logged, and the bot keeps working', async () => {
    fake.failNext('setMyCommands', { error_code: 400, description: 'Bad Request: BOT_COMMAND_INVALID' }, 100);
    const bot = await start({ commandsRetry: { firstDelayMs: 20, deadlineMs: 300 } });
    expect(await bot.commandsRegistered).toBe('gave_up');
    expect(logs.some((l) => l.includes('giving up'))).toBe(true);
    await answersHelp();
  });
});

describe('unrecoverable conditions', () => {
  it('a refused token at start-up is a config error naming TELEGRAM_BOT_TOKEN', async () => {
    const failure = await start({ token: `${fake.bot.id}:WRONG-TOKEN-1234` }).then(
      () => undefined,
      (error: unknown) => error as ReelforgeError,
    );
    expect(failure?.code).toBe('config');
    expect(failure?.message).toMatch(/401.*TELEGRAM_BOT_TOKEN/);
  });

  it('the older of two pollers gets 409 and reports it once, with the cause, instead of an unhandled rejection', async () => {
    const fatals: ReelforgeError[] = [];
    let reported: () => void = () => undefined;
    const firstReport = new Promise<void>((resolve) => (reported = resolve));
    await start({
      onFatal: (error) => {
        fatals.push(error);
        reported();
      },
    });
    await fake.waitFor(() => fake.longPollWaiting, 10_000, 'the first long poll');
    const second: ReelforgeError[] = [];
    await start({ onFatal: (error) => second.push(error) });
    await firstReport;
    expect(fatals).toHaveLength(1);
    expect(fatals[0]?.code).toBe('config');
    expect(fatals[0]?.message).toMatch(/409 Conflict.*only one "reelforge bot" may poll/i);
    // The newer poller carries on.
    await answersHelp();
    expect(second).toEqual([]);
  });
});
