/**
 * Supervision as an operator sees it: two `reelforge bot` processes polling with one token. Telegram
 * (here the fake) answers the older long poll with 409; that process must shut down cleanly with a
 * message naming the cause, not die on an unhandled rejection with a raw trace.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegramServer, type FakeUser } from '../fakes/telegram-server.js';
import { exited, startReelforge, stopAll, type Service } from '../helpers/reelforge-process.js';
import { waitFor } from '../helpers/wait-for.js';

let fake: FakeTelegramServer;
const dirs: string[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  fake = await FakeTelegramServer.start();
});
afterAll(async () => {
  await stopAll(children);
  await fake.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function startBot(): Promise<Service> {
  const dataDir = await mkdtemp(join(tmpdir(), 'reelforge-poller-'));
  dirs.push(dataDir);
  return startReelforge(['bot'], { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.apiRoot, DATA_DIR: dataDir }, children);
}

describe('two reelforge bot processes polling with one token', () => {
  it('the older one exits cleanly with a message naming the 409, no raw trace; the newer one keeps answering', async () => {
    const older = await startBot();
    await waitFor('the first bot to start', () => (/telegram bot started/.test(older.output()) ? true : undefined), 60_000, older.output);
    await fake.waitFor(() => fake.longPollWaiting, 30_000, 'the first long poll');

    const newer = await startBot();
    const code = await exited(older.child);
    const output = older.output();
    expect(code).toBe(2);
    expect(output).toMatch(/409 Conflict/);
    expect(output).toMatch(/only one "reelforge bot" may poll per token/i);
    expect(output).not.toMatch(/^\s+at /m); // no stack trace
    expect(output).not.toMatch(/unhandled/i);
    expect(output).not.toContain(fake.token);

    await waitFor('the second bot to start', () => (/telegram bot started/.test(newer.output()) ? true : undefined), 60_000, newer.output);
    const user: FakeUser = { id: 5150, first_name: 'Pat', language_code: 'en' };
    const chat = fake.privateChat(user);
    fake.sendUserMessage(chat, user, '/help');
    const reply = await fake.waitFor(() => fake.botMessages(chat.id)[0], 30_000, 'the newer bot to answer');
    expect(reply.versions[0]?.text).toContain('narrated vertical short video');
    expect(newer.child.exitCode).toBeNull();

    newer.child.kill('SIGTERM');
    expect(await exited(newer.child)).toBe(0);
  }, 180_000);
});
