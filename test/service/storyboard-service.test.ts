/**
 * The storyboard flow through the whole service as an operator runs it: `reelforge bot` as a child
 * process (offline providers, local queue, real ffmpeg) against the fake Bot API. Proves the wiring:
 * /storyboard is answered, ▶️ Render delivers a video with the re-make buttons under it.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegramServer, type FakeUser, type StoredMessage } from '../fakes/telegram-server.js';
import { exited, startReelforge, stopAll } from '../helpers/reelforge-process.js';
import { waitFor } from '../helpers/wait-for.js';

let fake: FakeTelegramServer;
let dataDir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  fake = await FakeTelegramServer.start();
  dataDir = await mkdtemp(join(tmpdir(), 'reelforge-sb-service-'));
});
afterAll(async () => {
  await stopAll(children);
  await fake.close();
  await rm(dataDir, { recursive: true, force: true });
});

const buttons = (m: StoredMessage): string[] => (m.versions.at(-1)?.reply_markup?.inline_keyboard ?? []).flat().map((b) => b.callback_data ?? '');

describe('reelforge bot: /storyboard', () => {
  it('answers /storyboard with the scenes and buttons, renders on ▶️ Render and puts 🔁 ✏️ 🎙 under the video', async () => {
    const bot = startReelforge(['bot'], { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.apiRoot, DATA_DIR: dataDir, STORYBOARD_KEEP_HOURS: '2' }, children);
    const user: FakeUser = { id: 51, first_name: 'Ann', language_code: 'en' };
    const chat = fake.privateChat(user);
    const request = fake.sendUserMessage(chat, user, '/storyboard 10 The history of tea');
    const board = await waitFor(
      'the storyboard',
      () => fake.botMessages(chat.id).find((m) => m.replyToMessageId === request.messageId && buttons(m).includes('sb:render')),
      120_000,
      bot.output,
    );
    expect(board.versions.at(-1)?.text).toMatch(/offline draft/);
    fake.pressButton(chat, user, board.messageId, 'sb:render');
    const video = await waitFor('the video', () => fake.botMessages(chat.id).find((m) => m.upload?.method === 'sendVideo'), 240_000, bot.output);
    expect(buttons(video)).toEqual(expect.arrayContaining([expect.stringMatching(/^rm:roll:j[0-9a-f]{12}$/), expect.stringMatching(/^rm:voice:/)]));
    bot.child.kill('SIGTERM');
    expect(await exited(bot.child)).toBe(0);
  }, 400_000);
});
