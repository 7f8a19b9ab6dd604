import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StoredMessage } from '../../fakes/telegram-server.js';
import { admin, alice, boris, carol, startHarness, type Harness } from './harness.js';
import { expectPlayableVideo } from './expect-video.js';
import { waitFor } from '../../helpers/wait-for.js';

function lastText(message: StoredMessage | undefined): string {
  return message?.versions.at(-1)?.text ?? '';
}

/** The bot's progress message answering a given request. */
function progressFor(h: Harness, request: StoredMessage): Promise<StoredMessage> {
  return h.fake.waitFor(
    () => h.fake.botMessages(request.chatId).find((m) => !m.video && m.replyToMessageId === request.messageId),
    5000,
    `the progress message for "${request.versions[0]?.text ?? ''}"`,
  );
}

function cancelDataOf(h: Harness, message: StoredMessage): Promise<string> {
  return h.fake.waitFor(() => message.versions.at(-1)?.reply_markup?.inline_keyboard[0]?.[0]?.callback_data, 5000, 'the Cancel button');
}

describe('the Cancel button, per-user limits and a full queue', () => {
  let h: Harness;
  beforeAll(async () => {
    // Groups are paced at 1 s here (3 s by default, covered by the notifier specs) to keep this quick.
    h = await startHarness({ concurrency: 1, limits: { userActive: 1, userWaiting: 1, maxWaiting: 2 }, minIntervalMs: { private: 1000, group: 1000 } });
  });
  afterAll(async () => {
    await h?.stop();
  });
  afterEach(async () => {
    // Leave the queue empty for the next spec.
    for (const job of await h.queue.list()) await h.queue.cancel(job.id);
    h.render.release();
  });

  it('answers a request delivered twice with one job and one progress message', async () => {
    h.render.hold();
    const chat = h.fake.privateChat({ ...alice, id: 3101 });
    const ask = h.fake.sendUserMessage(chat, alice, '/video 10 Tea clippers');
    const progress = await progressFor(h, ask);
    await cancelDataOf(h, progress);
    h.fake.redeliver(chat.id, ask.messageId);
    // The second delivery's "accepted" message is sent, then deleted once the queue says duplicate.
    await h.fake.waitFor(() => (h.fake.botMessages(chat.id).length >= 2 ? true : undefined), 5000, 'the second reply');
    await h.fake.waitFor(
      () => (h.fake.botMessages(chat.id).filter((m) => !m.deleted).length === 1 ? true : undefined),
      5000,
      'the duplicate reply to go',
    );
    expect((await h.queue.list()).filter((j) => j.data.owner.userId === String(alice.id))).toHaveLength(1);
    expect(h.fake.botMessages(chat.id).find((m) => !m.deleted)?.messageId).toBe(progress.messageId);
  });

  it('refuses a press by someone else with an alert, and cancels on the requester\'s press', async () => {
    h.render.hold();
    const group = h.fake.group(-2001, 'Friends', { supergroup: true });
    const ask = h.fake.sendUserMessage(group, alice, '/video 10 Ancient tea roads');
    const progress = await progressFor(h, ask);
    const data = await cancelDataOf(h, progress);
    const jobId = data.slice('cancel:'.length);
    await h.fake.waitFor(() => h.render.started.includes(jobId), 5000, 'the render to start');

    const refused = h.fake.pressButton(group, carol, progress.messageId, data);
    const refusal = await h.fake.waitFor(() => h.fake.callbackAnswers.find((a) => a.callback_query_id === refused), 5000, 'the refusal');
    expect(refusal).toMatchObject({ text: 'Only the person who asked for this video (or an admin) can cancel it.', show_alert: true });
    expect((await h.queue.get(jobId))?.state).toBe('active');

    const pressed = h.fake.pressButton(group, alice, progress.messageId, data);
    const answer = await h.fake.waitFor(() => h.fake.callbackAnswers.find((a) => a.callback_query_id === pressed), 5000, 'the answer');
    expect(answer.text).toBe('✖ Cancelled.');
    await h.fake.waitFor(() => lastText(progress) === '✖ Cancelled.', 5000, 'the cancelled line');
    expect((await h.queue.get(jobId))?.state).toBe('cancelled');
    expect(progress.versions.at(-1)?.reply_markup).toBeUndefined();
    h.render.release();
    // Once no job is active, the cancelled render has returned: whatever it would have sent is sent.
    await waitFor('the cancelled render to return', async () => (await h.queue.stats()).active === 0);
    expect(h.fake.botMessages(group.id).filter((m) => m.video)).toHaveLength(0);
  });

  it('lets an admin cancel anyone\'s waiting job from its button', async () => {
    h.render.hold();
    const group = h.fake.group(-2002, 'Club', { supergroup: true });
    await progressFor(h, h.fake.sendUserMessage(group, carol, '/video 10 Running first'));
    const ask = h.fake.sendUserMessage(group, boris, '/video 10 Ждёт в очереди');
    const progress = await progressFor(h, ask);
    await h.fake.waitFor(() => /В очереди/.test(lastText(progress)), 5000, 'the place in line');
    const data = await cancelDataOf(h, progress);

    const pressed = h.fake.pressButton(group, admin, progress.messageId, data);
    await h.fake.waitFor(() => h.fake.callbackAnswers.find((a) => a.callback_query_id === pressed && a.text === '✖ Cancelled.'), 5000, 'the answer');
    // The requester reads it in his own language.
    await h.fake.waitFor(() => lastText(progress) === '✖ Отменено.', 5000, 'the cancelled line');
  });

  it('tells a user at their limit, and everyone when the queue is full, in the progress message', async () => {
    h.render.hold();
    const chat = h.fake.privateChat(alice);
    const first = await progressFor(h, h.fake.sendUserMessage(chat, alice, '/video 10 One'));
    const second = await progressFor(h, h.fake.sendUserMessage(chat, alice, '/video 10 Two'));
    await h.fake.waitFor(() => /Queued/.test(lastText(second)), 5000, 'the second to wait');
    const third = await progressFor(h, h.fake.sendUserMessage(chat, alice, '/video 10 Three'));
    await h.fake.waitFor(() => /already have/.test(lastText(third)), 5000, 'the user limit answer');
    expect(lastText(third)).toBe('You already have the videos you are allowed in progress. Wait for one to finish, then ask again.');
    expect(third.versions.at(-1)?.reply_markup).toBeUndefined();
    expect(lastText(first)).not.toMatch(/already/);

    // Two waiting already fills this queue (maxWaiting 2).
    const borisChat = h.fake.privateChat(boris);
    await progressFor(h, h.fake.sendUserMessage(borisChat, boris, '/video 10 Очередь'));
    const carolChat = h.fake.privateChat(carol);
    const full = await progressFor(h, h.fake.sendUserMessage(carolChat, carol, '/video 10 Too many'));
    await h.fake.waitFor(() => /queue is full/.test(lastText(full)), 5000, 'the queue full answer');
    expect(lastText(full)).toBe('The queue is full right now. Please try again in a few minutes.');
  });
});

describe('delivery problems', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ concurrency: 1 });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('says the video is too large when Telegram answers 413 to the upload', async () => {
    h.fake.uploadLimitBytes = 10_000;
    try {
      const chat = h.fake.privateChat(carol);
      const progress = await progressFor(h, h.fake.sendUserMessage(chat, carol, '/video 10 A very large file'));
      await h.fake.waitFor(() => /larger than this chat accepts/.test(lastText(progress)), 30_000, 'the too-large answer');
      expect(lastText(progress)).toBe('The video came out larger than this chat accepts (50 MB). Try a shorter duration.');
      expect(h.fake.calls.some((c) => c.method === 'sendVideo' && c.status === 413)).toBe(true);
      expect(h.fake.botMessages(chat.id).filter((m) => m.video)).toHaveLength(0);
    } finally {
      h.fake.uploadLimitBytes = 50 * 1024 * 1024;
    }
  });

  it('carries on with a new progress message when someone deletes it, and still delivers', async () => {
    h.render.hold();
    const chat = h.fake.privateChat(boris);
    const ask = h.fake.sendUserMessage(chat, boris, '/video 12 Чайный путь');
    const progress = await progressFor(h, ask);
    const jobId = (await cancelDataOf(h, progress)).slice('cancel:'.length);
    await h.fake.waitFor(() => h.render.started.includes(jobId), 5000, 'the render to start');
    h.fake.deleteAsUser(chat.id, progress.messageId);
    h.render.release();

    const video = await h.fake.waitFor(() => h.fake.botMessages(chat.id).find((m) => m.video), 30_000, 'the video');
    await expectPlayableVideo(video, 12, h.dataDir);
    const replacement = await h.fake.waitFor(
      () => h.fake.botMessages(chat.id).find((m) => !m.video && !m.deleted && /Готово/.test(lastText(m))),
      10_000,
      'the replacement progress message to finish',
    );
    expect(replacement.replyToMessageId).toBe(ask.messageId);
    // Exactly one replacement: the deleted message, the new one, and the video.
    expect(h.fake.botMessages(chat.id)).toHaveLength(3);
    expect(h.logs.some((l) => l.line === 'telegram progress message gone')).toBe(true);
  });
});
