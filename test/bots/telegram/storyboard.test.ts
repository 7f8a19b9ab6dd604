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
  }, 400_000);

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
