/**
 * /storyboard in Telegram, as people use it: the script only (no picture or voice paid before
 * ▶️ Render), edits by reply in place, a render that becomes an ordinary job, buttons that only the
 * requester (or an admin) may press, and an untouched storyboard that expires cleanly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeChat, FakeUser, StoredMessage } from '../../fakes/telegram-server.js';
import { startStoryboardHarness, type StoryboardHarness } from './storyboard-harness.js';

const alice: FakeUser = { id: 1001, first_name: 'Alice', username: 'alice', language_code: 'en' };
const boris: FakeUser = { id: 1002, first_name: 'Борис', username: 'boris', language_code: 'ru' };

let h: StoryboardHarness;
beforeAll(async () => {
  h = await startStoryboardHarness();
});
afterAll(async () => {
  await h?.stop();
});

const last = (m: StoredMessage): StoredMessage['versions'][number] => m.versions.at(-1)!;
const buttons = (m: StoredMessage): string[] => (last(m).reply_markup?.inline_keyboard ?? []).flat().map((b) => b.callback_data ?? '');
const scenesOf = (m: StoredMessage): number => (last(m).text ?? '').split('\n').filter((line) => /^\d+\. /.test(line)).length;

/** Sends /storyboard and waits for the storyboard message (with its buttons). */
async function storyboard(chat: FakeChat, from: FakeUser, text: string): Promise<StoredMessage> {
  const sent = h.telegram.sendUserMessage(chat, from, text);
  return h.telegram.waitFor(
    () => h.telegram.botMessages(chat.id).find((m) => m.replyToMessageId === sent.messageId && buttons(m).includes('sb:render')),
    60_000,
    'the storyboard message',
  );
}

async function answerTo(queryId: string): Promise<{ text?: string; show_alert?: boolean }> {
  return h.telegram.waitFor(() => h.telegram.callbackAnswers.find((a) => a.callback_query_id === queryId), 30_000, 'the callback answer');
}

async function idleQueue(): Promise<number> {
  const stats = await h.queue.stats();
  return stats.waiting + stats.active;
}

/** Waits until the queue has finished what it was given (a video is in the chat a moment before its job ends). */
async function untilIdle(): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await idleQueue()) > 0) {
    if (Date.now() > deadline) throw new Error('the queue did not finish');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits for the next video in the chat that replies to `to`, after `count` such replies. */
async function nextVideo(chat: FakeChat, to: StoredMessage, count: number): Promise<StoredMessage> {
  return h.telegram.waitFor(
    () => h.telegram.botMessages(chat.id).filter((m) => m.upload?.method === 'sendVideo' && m.replyToMessageId === to.messageId)[count],
    300_000,
    'the re-made video',
  );
}

/** 🔁, 🎙 and ✏️ under a delivered video: each a new video replying to it, paying only for what changed. */
async function rerollVoiceAndEdit(chat: FakeChat, video: StoredMessage, scenes: number): Promise<void> {
  const jobId = /^rm:roll:(\w+)$/.exec(buttons(video)[0] ?? '')?.[1] ?? '';

  // Someone else: refused, nothing queued.
  await untilIdle();
  const foreign = h.telegram.pressButton(chat, boris, video.messageId, `rm:roll:${jobId}`);
  expect(await answerTo(foreign)).toMatchObject({ show_alert: true, text: 'Эти кнопки — только для того, кто заказал (или для админа).' });
  expect(await idleQueue()).toBe(0);

  // 🔁 Re-roll: the scene numbers, then scene 2: one image call, no speech, one segment encoded again.
  h.telegram.pressButton(chat, alice, video.messageId, `rm:roll:${jobId}`);
  const picker = await h.telegram.waitFor(() => {
    const m = h.telegram.message(chat.id, video.messageId)!;
    return buttons(m).includes(`rm:scene:${jobId}:1`) ? m : undefined;
  }, 30_000, 'the scene picker');
  expect(buttons(picker)).toEqual([...Array.from({ length: scenes }, (_, i) => `rm:scene:${jobId}:${i + 1}`), `rm:back:${jobId}`]);
  let from = h.openai.requests.length;
  h.telegram.pressButton(chat, alice, video.messageId, `rm:scene:${jobId}:2`);
  const rerolled = await nextVideo(chat, video, 0);
  expect(h.paidSince(from)).toEqual({ chat: 0, images: 1, speech: 0 });
  expect(rerolled.versions[0]?.caption).toContain(`made now: 1 pictures, 0 voices, 1 of ${scenes} segments`);
  expect(buttons(h.telegram.message(chat.id, video.messageId)!)).toEqual([`rm:roll:${jobId}`, `rm:edit:${jobId}`, `rm:voice:${jobId}`]);

  // 🎙 Voice on the re-rolled video: every line spoken again by nova, no picture.
  const rerolledJob = /^rm:roll:(\w+)$/.exec(buttons(rerolled)[0] ?? '')?.[1] ?? '';
  expect(rerolledJob).not.toBe(jobId);
  h.telegram.pressButton(chat, alice, rerolled.messageId, `rm:voice:${rerolledJob}`);
  await h.telegram.waitFor(() => buttons(h.telegram.message(chat.id, rerolled.messageId)!).includes(`rm:use:${rerolledJob}:nova`), 30_000, 'the voices');
  from = h.openai.requests.length;
  h.telegram.pressButton(chat, alice, rerolled.messageId, `rm:use:${rerolledJob}:nova`);
  const voiced = await nextVideo(chat, rerolled, 0);
  expect(h.paidSince(from)).toEqual({ chat: 0, images: 0, speech: scenes });
  expect(h.openai.requests.slice(from).filter((r) => r.path === '/v1/audio/speech').every((r) => r.body.voice === 'nova')).toBe(true);
  expect(voiced.versions[0]?.caption).toContain(`made now: 0 pictures, ${scenes} voices`);

  // ✏️ Edit a line: the button says how; a reply to the video does it (one speech call).
  const hint = h.telegram.pressButton(chat, alice, voiced.messageId, `rm:edit:${/^rm:roll:(\w+)$/.exec(buttons(voiced)[0] ?? '')?.[1] ?? ''}`);
  expect((await answerTo(hint)).text).toMatch(/^Reply to the video with "3: <new line>"/);
  from = h.openai.requests.length;
  h.telegram.sendUserMessage(chat, alice, '1: It all began with a single leaf in a cup of hot water.', { replyTo: voiced.messageId });
  await nextVideo(chat, voiced, 0);
  expect(h.paidSince(from)).toEqual({ chat: 0, images: 0, speech: 1 });
  expect(h.openai.requests.slice(from).find((r) => r.path === '/v1/audio/speech')?.body.input).toBe('It all began with a single leaf in a cup of hot water.');
}

describe('/storyboard in Telegram', () => {
  it('shows the scenes after the script call only, takes an edit in place, refuses another user’s press, and renders on ▶️ Render', async () => {
    const group = h.telegram.group(-100500, 'Tea lovers');
    const from = h.openai.requests.length;
    const board = await storyboard(group, alice, '/storyboard 12 The history of tea');
    const text = last(board).text ?? '';
    const scenes = scenesOf(board);
    expect(scenes).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/^🎬 .+ \(0:12\)/);
    expect(text).toContain('🖼');
    expect(text).toMatch(/Rendering: ~\$0\.\d{3}, under a minute/);
    expect(text).toMatch(/The script cost ~\$0\.\d{4}/);
    expect(buttons(board)).toEqual(['sb:render', 'sb:new', 'sb:cancel']);
    expect(h.paidSince(from)).toEqual({ chat: 1, images: 0, speech: 0 });

    // Someone else's press: a clear answer (in the presser's language), nothing queued, the buttons stay.
    const foreign = h.telegram.pressButton(group, boris, board.messageId, 'sb:render');
    expect(await answerTo(foreign)).toMatchObject({ text: 'Эти кнопки — только для того, кто заказал (или для админа).', show_alert: true });
    expect(await idleQueue()).toBe(0);
    expect(buttons(h.telegram.message(group.id, board.messageId)!)).toContain('sb:render');

    // An edit by reply: the same message, edited in place, still nothing paid but the script.
    const versions = board.versions.length;
    h.telegram.sendUserMessage(group, alice, '2: Tea clippers raced home across the oceans.', { replyTo: board.messageId });
    const edited = await h.telegram.waitFor(() => {
      const m = h.telegram.message(group.id, board.messageId)!;
      return m.versions.length > versions && (last(m).text ?? '').includes('Tea clippers raced home') ? m : undefined;
    }, 30_000, 'the edited storyboard');
    expect(last(edited).text).toContain('✏️ Scene 2 changed.');
    expect(last(edited).text).toMatch(/\n2\. Tea clippers raced home across the oceans\./);
    expect(buttons(edited)).toEqual(['sb:render', 'sb:new', 'sb:cancel']);
    // A reply that is not an edit gets the usage, and changes nothing.
    const wrong = h.telegram.sendUserMessage(group, alice, 'make it nicer', { replyTo: board.messageId });
    await h.telegram.waitFor(() => h.telegram.botMessages(group.id).find((m) => m.replyToMessageId === wrong.messageId), 30_000, 'the usage');
    expect(h.paidSince(from)).toEqual({ chat: 1, images: 0, speech: 0 });

    // ▶️ Render: an ordinary job with its progress message; pictures and voices only now, no new script.
    const beforeRender = h.openai.requests.length;
    h.telegram.pressButton(group, alice, board.messageId, 'sb:render');
    const video = await h.telegram.waitFor(
      () => h.telegram.botMessages(group.id).find((m) => m.upload?.method === 'sendVideo'),
      300_000,
      'the video',
    );
    expect(h.paidSince(beforeRender)).toEqual({ chat: 0, images: scenes, speech: scenes });
    const spoken = h.openai.requests.filter((r) => r.path === '/v1/audio/speech').map((r) => String(r.body.input));
    expect(spoken).toContain('Tea clippers raced home across the oceans.');
    const closed = h.telegram.message(group.id, board.messageId)!;
    expect(last(closed).text).toMatch(/^▶️ Rendering/);
    expect(buttons(closed)).toEqual([]);
    const progress = h.telegram.botMessages(group.id).find((m) => m.replyToMessageId === board.messageId && !m.upload && (m.versions[0]?.text ?? '').startsWith('▶️'));
    expect(progress?.versions.length).toBeGreaterThan(1);
    expect(video.versions[0]?.caption).toContain(edited.versions.at(-1)!.text!.split('\n')[1]!.replace(/^🎬 /, '').replace(/ \(0:12\).*$/, ''));

    // The storyboard is used: a second press renders nothing more.
    const again = h.telegram.pressButton(group, alice, board.messageId, 'sb:render');
    expect(await answerTo(again)).toMatchObject({ text: 'This storyboard is no longer open.' });

    // Under the video: 🔁 ✏️ 🎙.
    const jobId = /^rm:roll:(\w+)$/.exec(buttons(video)[0] ?? '')?.[1];
    expect(buttons(video)).toEqual([`rm:roll:${jobId}`, `rm:edit:${jobId}`, `rm:voice:${jobId}`]);
    await rerollVoiceAndEdit(group, video, scenes);
  }, 600_000);

  it('expires an untouched storyboard: the message says so and loses its buttons; a late press renders nothing', async () => {
    const chat = h.telegram.privateChat(alice);
    h.storyboards.expireMs = 1500;
    try {
      const board = await storyboard(chat, alice, '/storyboard 10 How bees make honey');
      expect(last(board).text).toContain('Expires in 1 min unless rendered.');
      const expired = await h.telegram.waitFor(() => {
        const m = h.telegram.message(chat.id, board.messageId)!;
        return (last(m).text ?? '').startsWith('⌛') ? m : undefined;
      }, 30_000, 'the expiry');
      expect(last(expired).text).toContain('This storyboard expired: nothing was rendered.');
      expect(buttons(expired)).toEqual([]);
      const late = h.telegram.pressButton(chat, alice, board.messageId, 'sb:render');
      expect(await answerTo(late)).toMatchObject({ text: 'This storyboard is no longer open.' });
      expect(await idleQueue()).toBe(0);
    } finally {
      h.storyboards.expireMs = 30 * 60_000;
    }
  }, 120_000);

  it('✖️ Cancel closes the storyboard; 🔁 New script writes another (one more script call)', async () => {
    const chat = h.telegram.privateChat(boris);
    const from = h.openai.requests.length;
    const board = await storyboard(chat, boris, '/storyboard 10 История чая');
    expect(last(board).text).toContain('Сборка: ~$');
    const versions = h.telegram.message(chat.id, board.messageId)!.versions.length;
    h.telegram.pressButton(chat, boris, board.messageId, 'sb:new');
    await h.telegram.waitFor(() => h.telegram.message(chat.id, board.messageId)!.versions.length > versions, 30_000, 'the new script');
    expect(h.paidSince(from)).toEqual({ chat: 2, images: 0, speech: 0 });
    h.telegram.pressButton(chat, boris, board.messageId, 'sb:cancel');
    const cancelled = await h.telegram.waitFor(() => {
      const m = h.telegram.message(chat.id, board.messageId)!;
      return (last(m).text ?? '').startsWith('✖️') ? m : undefined;
    }, 30_000, 'the cancel');
    expect(last(cancelled).text).toMatch(/^✖️ Раскадровка отменена\./);
    expect(buttons(cancelled)).toEqual([]);
  }, 120_000);
});
