import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alice, boris, startHarness, type Harness } from './harness.js';
import { expectPlayableVideo } from './expect-video.js';
import { waitFor } from '../../helpers/wait-for.js';

describe('/video in a forum topic of a supergroup', () => {
  let h: Harness;
  beforeAll(async () => {
    // One render at a time, so the second request really waits in line.
    h = await startHarness({ concurrency: 1, minIntervalMs: { private: 1000, group: 1000 }, fake: { minEditIntervalMs: 900 } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('gives each of two users their own progress message and video, all inside the topic', async () => {
    const group = h.fake.group(-1001234567890, 'Tea lovers', { forum: true });
    const topic = h.fake.createTopic(group, 'Videos', alice);
    const askA = h.fake.sendUserMessage(group, alice, '/video@reelforge_bot 10 The history of tea', { threadId: topic });
    const askB = h.fake.sendUserMessage(group, boris, '/video@reelforge_bot 11 История чая', { threadId: topic });

    const videos = await h.fake.waitFor(() => {
      const sent = h.fake.botMessages(group.id).filter((m) => m.video);
      return sent.length === 2 ? sent : undefined;
    }, 40_000, 'two videos');
    await h.fake.waitFor(() => h.fake.botMessages(group.id).filter((m) => /Done|Готово/.test(m.versions.at(-1)?.text ?? '')).length === 2, 10_000, 'two done lines');

    const bot = h.fake.botMessages(group.id);
    expect(bot).toHaveLength(4);
    for (const message of bot) expect(message.threadId).toBe(topic);

    const progressA = bot.find((m) => !m.video && m.replyToMessageId === askA.messageId);
    const progressB = bot.find((m) => !m.video && m.replyToMessageId === askB.messageId);
    expect(progressA?.versions.at(-1)?.text).toBe('✅ Done: The history of tea (0:10)');
    // Boris's client is Russian: his message speaks Russian, and showed his place in line while he waited.
    expect(progressB?.versions.at(-1)?.text).toBe('✅ Готово: История чая (0:11)');
    expect(progressB?.versions.some((v) => /В очереди/.test(v.text ?? ''))).toBe(true);

    const videoA = videos.find((v) => v.replyToMessageId === askA.messageId);
    const videoB = videos.find((v) => v.replyToMessageId === askB.messageId);
    expect(videoA).toBeDefined();
    expect(videoB).toBeDefined();
    await expectPlayableVideo(videoA!, 10, h.dataDir);
    await expectPlayableVideo(videoB!, 11, h.dataDir);
    expect(videoB?.versions[0]?.caption).toMatch(/^История чая\nДлина 0:11\n/);
    expect(h.fake.rateLimitedEdits).toBe(0);
  });
});

describe('/video in a group the bot is then removed from', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ minIntervalMs: { private: 50, group: 50 }, renderStepMs: 100 });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('stops editing after the first 403, ends the job (no more paid work, no upload) and tells no one', async () => {
    const group = h.fake.group(-100777, 'Short-lived');
    h.render.hold();
    h.fake.sendUserMessage(group, alice, '/video@reelforge_bot 10 Lighthouses');
    await h.fake.waitFor(() => h.fake.botMessages(group.id)[0], 20_000, 'the progress message');
    const job = await waitFor('the job to run', async () => (await h.queue.list()).find((j) => j.state === 'active'), 20_000);
    const removedAt = h.fake.calls.length;
    h.fake.removeBot(group.id);
    h.render.release();

    await waitFor('the job to end', async () => (await h.queue.get(job.id))?.state === 'cancelled', 20_000);
    await h.notifier.idle();
    const after = h.fake.calls.slice(removedAt).filter((c) => Number(c.params.chat_id) === group.id);
    // One refused edit taught the notifier; nothing more went to that chat.
    expect(after.filter((c) => c.status === 403)).toHaveLength(1);
    expect(after.some((c) => c.method === 'sendVideo')).toBe(false);
    expect(h.notifier.chatGone({ platform: 'telegram', chatId: group.id, locale: 'en' })).toBe(true);
    expect(h.logs.some((l) => /chat gone/.test(l.line))).toBe(true);
  });
});

