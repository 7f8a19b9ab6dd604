/**
 * Scaling out as the README describes: one `reelforge bot` with ROLE=bot takes requests, two
 * `reelforge worker` processes share the jobs through Redis (BullMQ) and notify the chats
 * themselves. A worker killed mid-job does not lose or duplicate a video.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegramServer, type FakeUser, type StoredMessage } from '../fakes/telegram-server.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { exited, startReelforge, stopAll, type Service } from '../helpers/reelforge-process.js';
import { probeBytes } from '../helpers/ffprobe.js';
import { waitFor } from '../helpers/wait-for.js';

let fake: FakeTelegramServer;
let redis: RedisServer;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  [fake, redis] = await Promise.all([FakeTelegramServer.start(), startRedisServer()]);
  dir = await mkdtemp(join(tmpdir(), 'reelforge-distributed-'));
});
afterAll(async () => {
  await stopAll(children);
  await Promise.all([fake.close(), redis.stop()]);
  await rm(dir, { recursive: true, force: true });
});

function videos(chatId: number): StoredMessage[] {
  return fake.botMessages(chatId).filter((m) => m.upload?.method === 'sendVideo');
}

describe('reelforge bot + two reelforge workers on Redis', () => {
  it('shares the jobs and delivers every video exactly once when a worker is killed mid-job', async () => {
    const common = { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.apiRoot, REDIS_URL: redis.url };
    const bot = startReelforge(['bot'], { ...common, ROLE: 'bot', DATA_DIR: join(dir, 'bot') }, children);
    // One job at a time per worker, so each worker holds its own job.
    const workers: Service[] = ['a', 'b'].map((name) =>
      startReelforge(['worker'], { ...common, ROLE: 'worker', DATA_DIR: join(dir, `worker-${name}`), GENERATION_CONCURRENCY: '1' }, children),
    );
    const logs = (): string => [bot, ...workers].map((s) => s.output()).join('\n---\n');

    const users: FakeUser[] = [
      { id: 101, first_name: 'Ann', language_code: 'en' },
      { id: 102, first_name: 'Ben', language_code: 'en' },
    ];
    const chats = users.map((u) => fake.privateChat(u));
    users.forEach((u, i) => fake.sendUserMessage(chats[i]!, u, `/video 10 Tea story number ${i + 1}`));

    // Both jobs running, one on each worker; then one worker dies.
    await waitFor(
      'both jobs to start',
      () => (chats.every((c) => fake.botMessages(c.id).some((m) => m.versions.some((v) => /script|images/i.test(v.text ?? '')))) ? true : undefined),
      120_000,
      logs,
    );
    const victim = workers[0]!;
    victim.child.kill('SIGKILL');
    await exited(victim.child);

    for (const chat of chats) {
      await waitFor(`the video in chat ${chat.id}`, () => (videos(chat.id).length > 0 ? true : undefined), 300_000, logs);
    }
    await new Promise((r) => setTimeout(r, 3000));
    for (const chat of chats) {
      expect(videos(chat.id)).toHaveLength(1);
      expect(fake.botMessages(chat.id).filter((m) => !m.upload)).toHaveLength(1);
      const probe = await probeBytes(videos(chat.id)[0]!.upload!.file('video')!.bytes, dir);
      expect(probe.codecs).toEqual(['aac', 'h264']);
      expect(probe.durationSec).toBeGreaterThan(8);
    }
    // The bot process took requests only: it rendered nothing.
    expect(bot.output()).not.toContain('video rendered');
    // The survivor rendered its own job and the one the killed worker had started.
    expect(workers[1]!.output().match(/video rendered/g)).toHaveLength(2);
  }, 600_000);
});
