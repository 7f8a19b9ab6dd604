import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alice, startHarness, type Harness } from './harness.js';
import { expectPlayableVideo } from './expect-video.js';

describe('a /video request in a private chat', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ fake: { minEditIntervalMs: 900 } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('answers at once, edits one progress message through every stage, and uploads a playable 12 s MP4', async () => {
    const chat = h.fake.privateChat(alice);
    const sentAt = Date.now();
    const request = h.fake.sendUserMessage(chat, alice, '/video 12 The history of tea');

    const progress = await h.fake.waitFor(() => h.fake.botMessages(chat.id)[0], 5000, 'the first reply');
    const firstReplyMs = progress.versions[0]!.at - sentAt;
    console.log(`time from /video to the first reply: ${firstReplyMs} ms`);
    expect(progress.replyToMessageId).toBe(request.messageId);

    const video = await h.fake.waitFor(() => h.fake.botMessages(chat.id).find((m) => m.video), 30_000, 'the video');
    await h.fake.waitFor(() => /Done/.test(progress.versions.at(-1)?.text ?? ''), 10_000, 'the done line');

    // One progress message and one video: never a stream of new messages.
    expect(h.fake.botMessages(chat.id)).toHaveLength(2);
    const texts = progress.versions.map((v) => v.text ?? '');
    expect(texts[0]).toMatch(/Got it, queuing|Queued/);
    expect(texts.some((t) => /✅ Script/.test(t) && /Images/.test(t) && /▰/.test(t))).toBe(true);
    expect(texts.some((t) => /Offline draft/.test(t))).toBe(true);
    expect(texts.at(-1)).toBe('✅ Done: The history of tea (0:12)');
    // Every in-progress version carries the Cancel button; the done line drops it.
    const cancelData = progress.versions[1]?.reply_markup?.inline_keyboard[0]?.[0]?.callback_data;
    expect(cancelData).toMatch(/^cancel:j[0-9a-f]{12}$/);
    expect(progress.versions.at(-1)?.reply_markup).toBeUndefined();
    // Edits stayed within Telegram's pace: the fake never had to answer 429.
    expect(h.fake.rateLimitedEdits).toBe(0);
    expect(h.fake.calls.filter((c) => c.status !== 200 && c.method !== 'getUpdates')).toEqual([]);

    await expectPlayableVideo(video, 12, h.dataDir);
    expect(video.replyToMessageId).toBe(request.messageId);
    expect(video.versions[0]?.caption).toBe('The history of tea\nLength 0:12\n1,234 tokens · 4 images · free (offline)');
  });
});
