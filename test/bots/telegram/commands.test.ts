import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSettingsStore } from '../../../src/store/file-settings-store.js';
import type { FakeChat, FakeUser, StoredMessage } from '../../fakes/telegram-server.js';
import { admin, alice, boris, carol, startHarness, type Harness } from './harness.js';
import { jobData } from '../../queue/contract.js';

let h: Harness;
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'reelforge-tg-commands-'));
  h = await startHarness({ dataDir, concurrency: 1, minIntervalMs: { private: 1000, group: 1000 } });
});
afterAll(async () => {
  await h?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** Sends a command and returns the text of the bot's reply to it (its latest version). */
async function ask(chat: FakeChat, from: FakeUser, text: string, match?: RegExp): Promise<string> {
  const sent = h.fake.sendUserMessage(chat, from, text);
  const reply = await h.fake.waitFor(
    () => {
      const found = h.fake.botMessages(chat.id).find((m) => m.replyToMessageId === sent.messageId);
      const last = found?.versions.at(-1)?.text;
      return found && last !== undefined && (!match || match.test(last)) ? found : undefined;
    },
    5000,
    `a reply to "${text.slice(0, 40)}"`,
  );
  return reply.versions.at(-1)?.text ?? '';
}

function repliesTo(chatId: number, message: StoredMessage): StoredMessage[] {
  return h.fake.botMessages(chatId).filter((m) => m.replyToMessageId === message.messageId);
}

describe('help and the command menu', () => {
  it('explains itself with examples in English, and in Russian for a Russian client', async () => {
    const en = await ask(h.fake.privateChat(alice), alice, '/start');
    expect(en).toContain('narrated vertical short video');
    expect(en).toContain('/video 30 The fall of Constantinople');
    expect(en).not.toContain('/tier');
    const ru = await ask(h.fake.privateChat(boris), boris, '/help');
    expect(ru).toContain('/video 30 Падение Константинополя');
    expect(ru).toMatch(/от 10 до 180 секунд/);
  });

  it('shows admins their commands too', async () => {
    expect(await ask(h.fake.privateChat(admin), admin, '/help')).toContain('/tier <@user|id|chat>');
  });

  it('registers the menu in English and Russian', () => {
    expect(h.fake.commands.get('default:')?.map((c) => c.command)).toEqual(['video', 'storyboard', 'help', 'start']);
    expect(h.fake.commands.get('default:ru')?.[0]).toEqual({ command: 'video', description: 'Сделать видео: /video 30 <тема>' });
  });
});

describe('/video with bad input', () => {
  const cases: [string, string][] = [
    ['/video', 'Tell me what the video is about, e.g. /video 30 The fall of Constantinople'],
    ['/video 30', 'Tell me what the video is about, e.g. /video 30 The fall of Constantinople'],
    ['/video 999 x', 'A video can be 10 to 180 seconds long, not 999.'],
    ['/video 5 x', 'A video can be 10 to 180 seconds long, not 5.'],
    ['/video 12.5 tea', 'The length must be whole seconds from 10 to 180, e.g. /video 30 The fall of Constantinople'],
    [`/video 30 ${'tea '.repeat(1250)}`, 'The topic is too long (4999 characters): keep it under 300.'],
  ];
  for (const [command, answer] of cases) {
    it(`answers "${command.slice(0, 24)}${command.length > 24 ? '…' : ''}" with one clear message and queues nothing`, async () => {
      const chat = h.fake.privateChat(carol);
      const before = (await h.queue.stats()).waiting + (await h.queue.stats()).active;
      expect(await ask(chat, carol, command)).toBe(answer);
      const after = await h.queue.stats();
      expect(after.waiting + after.active).toBe(before);
    });
  }

  it('treats "/video abc" as a 30 s video about "abc" (a topic, not a bad number)', async () => {
    h.render.hold();
    try {
      const chat = h.fake.privateChat(alice);
      const reply = await ask(chat, alice, '/video abc', /Queued|Script/);
      expect(reply).toMatch(/Queued|Script/);
      const [job] = await h.queue.list();
      expect(job?.data.request).toMatchObject({ topic: 'abc', durationSec: 30, lang: 'en' });
      await h.queue.cancel(job?.id ?? '');
    } finally {
      h.render.release();
    }
  });

  it('answers in Russian for a Russian client', async () => {
    expect(await ask(h.fake.privateChat(boris), boris, '/video 999 чай')).toBe('Видео может длиться от 10 до 180 секунд, а не 999.');
  });
});

describe('admin commands', () => {
  const refusal = 'Sorry, that command is for the bot admins only.';

  it('refuses /tier, /stats, /queue and /cancel to everyone else, changing nothing', async () => {
    const chat = h.fake.privateChat(carol);
    for (const command of ['/tier chat quality', '/captions pop', '/stats', '/queue', '/cancel j0123456789ab']) {
      expect(await ask(chat, carol, command)).toBe(refusal);
    }
    expect(await h.settings.getTier({ platform: 'telegram', userId: String(carol.id), chatId: String(chat.id) })).toBeUndefined();
    expect(await h.settings.getCaptions('telegram', String(chat.id))).toBeUndefined();
  });

  it('explains /tier usage for bad arguments', async () => {
    const chat = h.fake.privateChat(admin);
    expect(await ask(chat, admin, '/tier')).toMatch(/^Usage: \/tier/);
    expect(await ask(chat, admin, '/tier chat turbo')).toBe('Unknown tier: use ultra_fast, balanced, quality or auto.');
    expect(await ask(chat, admin, '/tier @nobody_seen quality')).toMatch(/I have not seen @nobody_seen yet/);
  });

  it('sets a chat tier that new requests in that chat use, and that survives a restart', async () => {
    const group = h.fake.group(-3001, 'Quality club', { supergroup: true });
    expect(await ask(group, admin, '/tier@reelforge_bot chat quality')).toBe('Tier for this chat: quality.');
    // alice has written to the bot before, so her @username is known.
    expect(await ask(group, admin, '/tier @alice ultra_fast')).toBe(`Tier for @alice: ultra_fast.`);
    expect(await ask(group, admin, `/tier ${boris.id} balanced`)).toBe(`Tier for ${boris.id}: balanced.`);

    h.render.hold();
    try {
      const before = h.render.started.length;
      h.fake.sendUserMessage(group, carol, '/video 20 Chat tier applies');
      const job = await h.fake.waitFor(() => h.render.started.length > before && h.render.started.at(-1), 5000, 'the job to start');
      expect((await h.queue.get(job))?.data.request.tier).toBe('quality');
      await h.queue.cancel(job);
    } finally {
      h.render.release();
    }

    const reopened = await FileSettingsStore.open(dataDir);
    try {
      expect(await reopened.getTier({ platform: 'telegram', userId: String(carol.id), chatId: String(group.id) })).toBe('quality');
      expect(await reopened.getTier({ platform: 'telegram', userId: String(alice.id), chatId: String(group.id) })).toBe('ultra_fast');
      expect(await reopened.getTier({ platform: 'telegram', userId: String(boris.id) })).toBe('balanced');
    } finally {
      await reopened.close();
    }
    expect(await ask(group, admin, '/tier chat auto')).toBe('Tier for this chat: automatic (from the duration).');
  });

  it("sets a chat's caption style that new requests there use; says the styles for anything else", async () => {
    const group = h.fake.group(-3003, 'Pop club', { supergroup: true });
    expect(await ask(group, admin, '/captions')).toMatch(/^Usage: \/captions <clean\|karaoke\|pop\|auto>\n[\s\S]*Now: the default, karaoke/);
    expect(await ask(group, admin, '/captions neon')).toMatch(/^Usage: \/captions/);
    expect(await ask(group, admin, '/captions@reelforge_bot pop')).toBe('Captions in this chat: pop (bold uppercase words, the key word in colour).');
    expect(await ask(group, boris, '/help')).not.toContain('/captions');
    expect(await ask(h.fake.privateChat(admin), admin, '/help')).toContain('/captions <clean|karaoke|pop|auto>');

    h.render.hold();
    try {
      const before = h.render.started.length;
      h.fake.sendUserMessage(group, carol, '/video 20 Pop captions apply');
      const job = await h.fake.waitFor(() => h.render.started.length > before && h.render.started.at(-1), 5000, 'the job to start');
      expect((await h.queue.get(job))?.data.request.captions).toBe('pop');
      await h.queue.cancel(job);
    } finally {
      h.render.release();
    }
    const reopened = await FileSettingsStore.open(dataDir);
    try {
      expect(await reopened.getCaptions('telegram', String(group.id))).toBe('pop');
    } finally {
      await reopened.close();
    }
    expect(await ask(group, admin, '/captions auto')).toBe('Captions in this chat: the default, karaoke (2-4 words, the spoken word highlighted).');
    expect(await h.settings.getCaptions('telegram', String(group.id))).toBeUndefined();
  });

  it('sets a user tier by replying to their message', async () => {
    const group = h.fake.group(-3002, 'Replies', { supergroup: true });
    const theirs = h.fake.sendUserMessage(group, carol, 'hello');
    const command = h.fake.sendUserMessage(group, admin, '/tier quality', { replyTo: theirs.messageId });
    await h.fake.waitFor(() => repliesTo(group.id, command)[0], 5000, 'the reply');
    expect(repliesTo(group.id, command)[0]?.versions[0]?.text).toBe('Tier for Carol: quality.');
    expect(await h.settings.getTier({ platform: 'telegram', userId: String(carol.id) })).toBe('quality');
    await h.settings.setTier({ kind: 'user', platform: 'telegram', userId: String(carol.id) }, 'auto');
  });

  it('shows /queue and /stats, and cancels a job by id with /cancel', async () => {
    h.render.hold();
    try {
      const chat = h.fake.privateChat(admin);
      const before = h.render.started.length;
      h.fake.sendUserMessage(h.fake.privateChat(alice), alice, '/video 15 The queue view');
      const jobId = await h.fake.waitFor(() => h.render.started.length > before && h.render.started.at(-1), 5000, 'the job to start');
      const queue = await ask(chat, admin, '/queue');
      expect(queue).toContain(`${jobId} · ⏳ running · 15 s · The queue view · telegram:${alice.id}`);
      expect(await ask(chat, admin, '/stats')).toMatch(/^Queue: 1 running, 0 waiting\nJobs: /);
      expect(await ask(chat, admin, `/cancel ${jobId}`)).toBe(`Job ${jobId} cancelled.`);
      expect((await h.queue.get(jobId))?.state).toBe('cancelled');
      expect(await ask(chat, admin, `/cancel ${jobId}`)).toBe(`No waiting or running job ${jobId}.`);
      expect(await ask(chat, admin, '/cancel')).toBe('Usage: /cancel <job id> (see /queue).');
      expect(await ask(chat, admin, '/queue')).toBe('The queue is empty.');
    } finally {
      h.render.release();
    }
  });
  it('answers /queue with a full queue in one message: the lines that fit, then how many more', async () => {
    h.render.hold();
    const ids: string[] = [];
    try {
      // 49 waiting jobs with long topics: one line each would be far over Telegram's 4,096 characters.
      for (let i = 0; i < 49; i++) {
        const queued = await h.queue.enqueue(jobData(`filler-${i}`, `A long topic about the history of everything, part ${i}`), { idempotencyKey: `filler-${i}` });
        ids.push(queued.id);
      }
      const chat = h.fake.privateChat(admin);
      const text = await ask(chat, admin, '/queue');
      expect(text.length).toBeLessThanOrEqual(4096);
      const lines = text.split('\n');
      const more = /^… and (\d+) more$/.exec(lines.at(-1) ?? '');
      expect(more).not.toBeNull();
      expect(lines.length - 1 + Number(more?.[1])).toBe((await h.queue.list()).length);
    } finally {
      for (const id of ids) await h.queue.cancel(id);
      h.render.release();
    }
  });
});
