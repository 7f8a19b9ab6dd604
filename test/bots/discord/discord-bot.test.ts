/**
 * The Discord bot end to end: discord.js and @discordjs/rest against the fake Discord, the shared
 * LocalJobQueue and the real video job processor, with a quick render that makes real MP4s.
 */
import { loggerInto, type LoggedLine } from '../../helpers/logs.js';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync } from 'node:fs';
import { createDiscordBot } from '../../../src/bots/discord/bot.js';
import type { TelegramTarget } from '../../../src/core/chat-target.js';
import { ReelforgeError } from '../../../src/core/errors.js';
import { validateVideoRequest } from '../../../src/core/request.js';
import type { InteractionRecord, FakeUser, StoredMessage } from '../../fakes/discord-server.js';
import {
  APP_ID,
  CHANNEL_ID,
  OTHER_CHANNEL_ID,
  GUILD_ID,
  MEMBER_PERMISSIONS,
  TOKEN,
  admin,
  alice,
  boris,
  commandOptions,
  delivered,
  startHarness,
  type Harness,
} from './harness.js';
import { probeBytes } from '../../helpers/ffprobe.js';
import { waitFor } from '../../helpers/wait-for.js';

/** Shortened interaction token lifetime: jobs longer than ~8.5 s cross it. */
const TOKEN_LIFETIME_MS = 10_000;
const TOKEN_MARGIN_MS = 1500;
const EDIT_INTERVAL_MS = 250;

let h: Harness;
const ackTimesMs: number[] = [];

beforeAll(async () => {
  h = await startHarness({ tokenLifetimeMs: TOKEN_LIFETIME_MS, tokenMarginMs: TOKEN_MARGIN_MS, editIntervalMs: EDIT_INTERVAL_MS });
}, 30_000);

afterEach(async () => {
  // Each test leaves the shared queue empty.
  for (const job of await h.queue.list()) await h.queue.cancel(job.id);
  await waitFor('queue to drain', async () => (await h.queue.stats()).active === 0, 10_000);
  h.plans.clear();
  h.fake.options.attachmentLimitBytes = 10 * 1024 * 1024;
});

afterAll(async () => {
  await h?.close();
  if (ackTimesMs.length > 0) {
    const sorted = [...ackTimesMs].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    console.log(
      `INTERACTION_CREATE -> deferral callback: n=${sorted.length}, median ${median} ms, min ${sorted[0]} ms, max ${sorted.at(-1)} ms`,
    );
  }
});

interface VideoOptions {
  duration: number;
  topic: string;
  tier?: string;
  captions?: string;
}

function video(from: FakeUser, options: VideoOptions, extra: { locale?: string; attachmentSizeLimit?: number; channelId?: string } = {}): InteractionRecord {
  return h.fake.dispatchCommand({
    name: 'video',
    options: commandOptions({
      duration: options.duration,
      topic: options.topic,
      ...(options.tier ? { tier: options.tier } : {}),
      ...(options.captions ? { captions: options.captions } : {}),
    }),
    from: { user: from, permissions: MEMBER_PERMISSIONS },
    guildId: GUILD_ID,
    channelId: extra.channelId ?? CHANNEL_ID,
    locale: extra.locale ?? 'en-US',
    ...(extra.attachmentSizeLimit ? { attachmentSizeLimit: extra.attachmentSizeLimit } : {}),
  });
}

function command(
  from: FakeUser,
  name: string,
  options: Array<{ name: string; type: number; value?: string | number; options?: Array<{ name: string; type: number; value: string }> }> = [],
  extra: { permissions?: string; locale?: string; resolved?: { users: Record<string, FakeUser> } } = {},
): InteractionRecord {
  return h.fake.dispatchCommand({
    name,
    options,
    from: { user: from, permissions: extra.permissions ?? MEMBER_PERMISSIONS },
    guildId: GUILD_ID,
    channelId: CHANNEL_ID,
    locale: extra.locale ?? 'en-US',
    ...(extra.resolved ? { resolved: extra.resolved } : {}),
  });
}

/** Waits for the deferral and records how long it took after INTERACTION_CREATE. */
async function deferred(record: InteractionRecord): Promise<InteractionRecord> {
  await h.fake.waitFor(() => record.acknowledgedAt !== undefined, 5000, 'the deferral');
  ackTimesMs.push((record.acknowledgedAt ?? 0) - record.createdAt);
  return record;
}

/** The first callback's text reply (type 4), e.g. an ephemeral refusal. */
async function replyOf(record: InteractionRecord): Promise<{ content: string; ephemeral: boolean }> {
  const message = await h.fake.waitFor(() => h.fake.original(record.id), 5000, 'a reply');
  return { content: message.content, ephemeral: (message.flags & 64) !== 0 };
}

/** The text of a deferred reply once it has been edited. */
async function editedReplyOf(record: InteractionRecord): Promise<{ content: string; ephemeral: boolean }> {
  const message = await h.fake.waitFor(
    () => {
      const m = h.fake.original(record.id);
      return m && m.history.length > 1 ? m : undefined;
    },
    5000,
    'an edited reply',
  );
  return { content: message.content, ephemeral: (message.flags & 64) !== 0 };
}

async function jobOf(record: InteractionRecord): Promise<string> {
  let id: string | undefined;
  await waitFor('the job', async () => {
      const jobs = [...(await h.queue.list())];
      id = jobs.find((j) => j.data.target?.platform === 'discord' && j.data.target.interactionToken === record.token)?.id;
      return id !== undefined;
    }, 5000);
  return id ?? '';
}

function cancelButtonId(message: StoredMessage | undefined): string | undefined {
  const rows = (message?.components ?? []) as Array<{ components?: Array<{ custom_id?: string }> }>;
  return rows[0]?.components?.[0]?.custom_id;
}

async function finished(record: InteractionRecord, timeoutMs = 20_000): Promise<StoredMessage> {
  return h.fake.waitFor(() => delivered(h.fake.original(record.id)), timeoutMs, 'the video');
}

/** A held job from someone else keeps the single worker busy, so new jobs wait in line. */
async function occupyWorker(topic = 'Gate keeper'): Promise<{ record: InteractionRecord; jobId: string }> {
  h.plans.set(topic, { hold: true });
  const record = await deferred(video(boris, { duration: 10, topic }));
  const jobId = await jobOf(record);
  await waitFor('the gate job to start', () => h.renders.some((r) => r.jobId === jobId), 5000);
  return { record, jobId };
}

describe('start-up', () => {
  test('registers the slash commands in the development guild, admin ones restricted', async () => {
    expect(await h.bot.commandsRegistered).toBe('done');
    const commands = h.fake.commands.guild.get(GUILD_ID) ?? [];
    expect(commands.map((c) => c.name).sort()).toEqual(['cancel', 'help', 'queue', 'stats', 'storyboard', 'tier', 'video']);
    const videoCommand = commands.find((c) => c.name === 'video') as { options: Array<Record<string, unknown>> };
    // /storyboard takes exactly /video's options.
    expect((commands.find((c) => c.name === 'storyboard') as { options: unknown }).options).toEqual(videoCommand.options);
    expect(videoCommand.options.find((o) => o.name === 'duration')).toMatchObject({ type: 4, min_value: 10, max_value: 180, required: true });
    expect(videoCommand.options.find((o) => o.name === 'tier')?.choices).toHaveLength(3);
    expect((videoCommand.options.find((o) => o.name === 'captions')?.choices as Array<{ value: string }>).map((c) => c.value)).toEqual(['clean', 'karaoke', 'pop']);
    for (const name of ['tier', 'stats', 'queue']) {
      expect(commands.find((c) => c.name === name)?.default_member_permissions).toBe('32'); // Manage Server
    }
    expect(h.fake.commands.global).toEqual([]);
  });

  test('a wrong bot token stops start-up with a config error that does not echo the token', async () => {
    const bot = createDiscordBot({
      token: 'not-the-token',
      applicationId: APP_ID,
      apiBase: h.fake.apiBase,
      guildId: GUILD_ID,
      queue: h.queue,
      settings: h.settings,
      adminIds: new Set(),
    });
    try {
      const failure = await bot.start().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(ReelforgeError);
      expect((failure as ReelforgeError).code).toBe('config');
      expect((failure as ReelforgeError).message).not.toContain('not-the-token');
    } finally {
      await bot.stop();
    }
  });

  test('the client identified over the gateway with the Guilds intent only', () => {
    expect(h.fake.identifies).toEqual([{ intents: 1, shard: [0, 1] }]); // GatewayIntentBits.Guilds
    expect(h.fake.gatewayLog.some((e) => e.t === 'READY')).toBe(true);
    expect(h.fake.gatewayLog.some((e) => e.t === 'GUILD_CREATE')).toBe(true);
  });

  test('a refused command registration does not hold start-up: logged and retried in the background', async () => {
    h.fake.failNext({ method: 'PUT', path: /\/commands$/, status: 400, code: 50035, message: 'Invalid Form Body' });
    const logs: LoggedLine[] = [];
    const bot = createDiscordBot({
      token: TOKEN,
      applicationId: APP_ID,
      apiBase: h.fake.apiBase,
      guildId: GUILD_ID,
      queue: h.queue,
      settings: h.settings,
      adminIds: new Set(),
      log: loggerInto(logs),
      commandsRetry: { firstDelayMs: 50 },
    });
    try {
      await bot.start();
      expect(await bot.commandsRegistered).toBe('done');
      expect(logs.some((l) => l.line.includes('register the Discord slash commands: failed') && JSON.stringify(l.fields).includes('50035'))).toBe(true);
      expect(h.fake.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/commands')).map((r) => r.status).slice(-2)).toEqual([400, 200]);
    } finally {
      await bot.stop();
    }
  });
});

describe('/video', () => {
  test('defers at once, shows queue place and stages in one edited message, and delivers a playable MP4', async () => {
    const gate = await occupyWorker();
    const record = await deferred(video(alice, { duration: 12, topic: 'The fall of Constantinople' }));
    expect(record.callbackType).toBe(5);
    const jobId = await jobOf(record);
    await h.fake.waitFor(() => /Queued/.test(h.fake.original(record.id)?.content ?? ''), 5000, 'the queued view');
    expect(cancelButtonId(h.fake.original(record.id))).toBe(`reelforge:cancel:${jobId}`);

    await h.queue.cancel(gate.jobId);
    const message = await finished(record);

    // One message, edited in place: deferral, queue place, stages, the video.
    const ownMessages = [...h.fake.messages.values()].filter((m) => m.interactionId === record.id);
    expect(ownMessages).toHaveLength(1);
    const contents = message.history.map((r) => r.content);
    expect(message.history[0]).toMatchObject({ via: 'callback', content: '' });
    const queuedAt = contents.findIndex((c) => c.startsWith('⏳ Queued, next in line'));
    const imagesAt = contents.findIndex((c) => /⏳ Images \d\/4/.test(c));
    const scriptDoneAt = contents.findIndex((c) => c.includes('✅ Script'));
    expect(queuedAt).toBeGreaterThan(0);
    expect(scriptDoneAt).toBeGreaterThan(queuedAt);
    expect(imagesAt).toBeGreaterThan(queuedAt);
    expect(contents.some((c) => c.includes('🎬 The fall of Constantinople') && /▰/.test(c))).toBe(true);
    expect(contents.at(-2)).toContain('⏳ Upload'); // shown while the file goes up
    expect(message.history.every((r) => r.via === 'callback' || r.via === 'webhook')).toBe(true);

    // Progress edits are throttled to one per interval.
    const progressEdits = message.history.filter((r) => r.via === 'webhook' && r.components.length > 0);
    for (let i = 1; i < progressEdits.length; i++) {
      expect((progressEdits[i]?.at ?? 0) - (progressEdits[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(EDIT_INTERVAL_MS - 30);
    }

    // The end: title, length and receipt, the button gone, the MP4 attached.
    expect(message.content).toBe('The fall of Constantinople\nLength 0:12\n1,243 tokens · 4 images · free (offline)');
    expect(message.components).toEqual([]);
    expect(message.attachments).toHaveLength(1);
    const attachment = message.attachments[0];
    expect(attachment?.filename).toBe('the-fall-of-constantinople.mp4');
    expect(attachment?.content_type).toBe('video/mp4');
    const probed = await probeBytes(attachment?.data ?? Buffer.alloc(0), h.dataDir);
    expect(probed.video).toEqual({ codec: 'h264', width: 270, height: 480 });
    expect(probed.audio?.codec).toBe('aac');
    expect(probed.durationSec).toBeGreaterThan(11.8);
    expect(probed.durationSec).toBeLessThan(12.3);

    // The whole exchange went through the interaction webhook: no bot-token channel messages.
    expect(h.fake.requests.some((r) => r.path.startsWith('/channels/'))).toBe(false);
    expect((await h.queue.get(jobId))?.state).toBe('completed');
  }, 40_000);

  test('speaks Russian to a Russian client', async () => {
    const gate = await occupyWorker();
    const record = await deferred(video(alice, { duration: 10, topic: 'Падение Константинополя' }, { locale: 'ru' }));
    await h.fake.waitFor(() => /В очереди/.test(h.fake.original(record.id)?.content ?? ''), 5000, 'the Russian queued view');
    const button = (h.fake.original(record.id)?.components[0] as { components: Array<{ label: string }> }).components[0];
    expect(button?.label).toBe('✖ Отменить');
    await h.queue.cancel(gate.jobId);
    const message = await finished(record);
    expect(message.history.some((r) => r.content.includes('Сценарий'))).toBe(true);
    expect(message.content).toContain('Длина 0:10');
    // Attachment names stay ASCII; a Cyrillic title falls back to the job's file name.
    expect(message.attachments[0]?.filename).toMatch(/^j[0-9a-f]{12}\.mp4$/);
  }, 30_000);

  test('bad options get a private explanation and enqueue nothing', async () => {
    const before = await h.queue.stats();
    const tooShort = video(alice, { duration: 5, topic: 'Bees' });
    expect(await replyOf(tooShort)).toEqual({ content: 'A video can be 10 to 180 seconds long, not 5.', ephemeral: true });
    expect(tooShort.callbackType).toBe(4);

    const blank = video(alice, { duration: 30, topic: '   ' });
    expect(await replyOf(blank)).toEqual({
      content: 'Tell me what the video is about, e.g. /video 30 The fall of Constantinople',
      ephemeral: true,
    });

    const badTier = video(alice, { duration: 30, topic: 'Bees', tier: 'ultra' });
    expect((await replyOf(badTier)).content).toBe('Unknown tier: use ultra_fast, balanced, quality or auto.');

    const ru = video(alice, { duration: 999, topic: 'Пчёлы' }, { locale: 'ru' });
    expect((await replyOf(ru)).content).toBe('Видео может длиться от 10 до 180 секунд, а не 999.');
    expect(await h.queue.stats()).toEqual(before);
  });

  test('an interaction that reaches the bot after the 3 s window (10062) is logged and makes no job', async () => {
    const before = await h.queue.stats();
    const late = h.fake.dispatchCommand({
      name: 'video',
      options: commandOptions({ duration: 10, topic: 'Too late' }),
      from: { user: alice },
      guildId: GUILD_ID,
      channelId: CHANNEL_ID,
      ageMs: 4000,
    });
    await waitFor('the log', () => h.logs.some((l) => l.line === 'discord interaction failed' && l.fields?.interactionId === late.id), 5000);
    expect(h.fake.requests.some((r) => r.status === 404 && r.path === `/interactions/${late.id}/:token/callback`)).toBe(true);
    expect(late.acknowledgedAt).toBeUndefined();
    expect(await h.queue.stats()).toEqual(before);
  });

  test('a user over the per-user limit is told so in the progress message', async () => {
    await occupyWorker();
    const accepted: InteractionRecord[] = [];
    for (let i = 1; i <= 4; i++) accepted.push(await deferred(video(alice, { duration: 10, topic: `Waiting ${i}` })));
    const refused = await deferred(video(alice, { duration: 10, topic: 'One too many' }));
    expect((await editedReplyOf(refused)).content).toBe(
      'You already have the videos you are allowed in progress. Wait for one to finish, then ask again.',
    );
    expect(h.fake.original(refused.id)?.components).toEqual([]);
    for (const r of accepted) expect(await jobOf(r)).toMatch(/^j/);
  }, 30_000);

  test('a job that outlives the interaction token finishes as a channel message, in the same message', async () => {
    h.plans.set('The long history of tea', { stepMs: 1200 });
    const record = await deferred(video(alice, { duration: 10, topic: 'The long history of tea' }));
    const message = await finished(record, 30_000);
    expect(Date.now() - record.createdAt).toBeGreaterThan(TOKEN_LIFETIME_MS - TOKEN_MARGIN_MS);

    const vias = message.history.map((r) => r.via);
    const firstChannel = vias.indexOf('channel');
    expect(vias.slice(1, firstChannel).every((v) => v === 'webhook')).toBe(true);
    expect(firstChannel).toBeGreaterThan(1);
    expect(vias.slice(firstChannel).every((v) => v === 'channel')).toBe(true);
    // The notifier switched before the token ran out: Discord never had to refuse it.
    expect(h.fake.requests.some((r) => r.status === 401 && r.path.startsWith('/webhooks/'))).toBe(false);
    const channelEdits = h.fake.requests.filter((r) => r.method === 'PATCH' && r.path === `/channels/${CHANNEL_ID}/messages/${message.id}`);
    expect(channelEdits.length).toBeGreaterThan(0);
    expect(channelEdits.every((r) => r.authorized)).toBe(true);
    expect(message.content).toContain('Length 0:10');
    const probed = await probeBytes(message.attachments[0]?.data ?? Buffer.alloc(0), h.dataDir);
    expect(probed.durationSec).toBeGreaterThan(9.8);
  }, 40_000);

  test('an interaction Discord already considers expired (401 50027) falls back to the channel message', async () => {
    h.plans.set('Honey bees', { stepMs: 300 });
    const record = await deferred(video(alice, { duration: 10, topic: 'Honey bees' }));
    await h.fake.waitFor(() => h.fake.original(record.id)?.content.includes('✅ Script'), 10_000, 'a stage');
    h.fake.ageInteraction(record.id, 60 * 60_000);
    const message = await finished(record);
    expect(h.fake.requests.some((r) => r.status === 401 && r.path.endsWith('/messages/@original'))).toBe(true);
    expect(message.history.at(-1)?.via).toBe('channel');
    expect(h.logs.some((l) => l.line.includes('token no longer usable') && l.fields?.reason !== undefined)).toBe(true);
  }, 30_000);

  test('if the old message is gone after expiry, a new channel message carries on and gets the video', async () => {
    h.plans.set('Silk road', { stepMs: 300 });
    const record = await deferred(video(alice, { duration: 10, topic: 'Silk road' }));
    const original = await h.fake.waitFor(() => {
      const m = h.fake.original(record.id);
      return m?.content.includes('✅ Script') ? m : undefined;
    }, 10_000, 'a stage');
    h.fake.ageInteraction(record.id, 60 * 60_000);
    h.fake.messages.delete(original.id);
    const replacement = await h.fake.waitFor(
      () => delivered([...h.fake.messages.values()].find((m) => m.channel_id === CHANNEL_ID && m.content.startsWith('Silk road'))),
      20_000,
      'the video in a new message',
    );
    expect(replacement.interactionId).toBeUndefined();
    expect(replacement.history[0]?.via).toBe('channel');
    expect(replacement.history.length).toBeGreaterThan(1); // posted once, then edited, not re-posted
    expect(h.fake.requests.filter((r) => r.method === 'POST' && r.path === `/channels/${CHANNEL_ID}/messages`)).toHaveLength(1);
  }, 30_000);
});

describe('a channel the bot lost access to', () => {
  test('after the token expired, 403 Missing Access on the channel ends the job as chat gone: the finished video is kept and logged, not failed as internal', async () => {
    h.plans.set('Locked room', { stepMs: 1500 });
    // Its own channel: the notifier remembers a gone channel for a while.
    const record = await deferred(video(alice, { duration: 10, topic: 'Locked room' }, { channelId: OTHER_CHANNEL_ID }));
    const jobId = await jobOf(record);
    // The render is under way (its last progress edit is out); the rest ends in the delivery.
    await h.fake.waitFor(() => h.fake.original(record.id)?.content.includes('✅ Music'), 20_000, 'the render stage');
    h.fake.ageInteraction(record.id, 60 * 60_000);
    // The bot's role lost access to the channel: every channel write is refused from now on.
    h.fake.failNext({ path: new RegExp(`^/channels/${OTHER_CHANNEL_ID}/messages`), status: 403, code: 50001, message: 'Missing Access', times: 1000 });
    try {
      await waitFor('the job to end as chat gone', async () => (await h.queue.get(jobId))?.state === 'cancelled', 20_000);
      const kept = h.logs.find((l) => l.line.includes('chat gone') && typeof l.fields?.path === 'string');
      expect(kept).toBeDefined();
      expect(existsSync(kept?.fields?.path as string)).toBe(true);
      expect(h.logs.some((l) => l.line.includes('discord channel gone'))).toBe(true);
      expect(h.logs.some((l) => l.line.includes('job failed'))).toBe(false);
      // Nothing more was tried after the refusal that taught the notifier.
      expect(h.fake.requests.filter((r) => r.status === 403 && r.path.startsWith(`/channels/${OTHER_CHANNEL_ID}/`))).toHaveLength(1);
    } finally {
      h.fake.clearFailures();
    }
  }, 40_000);
});

describe('upload limits', () => {
  test("a video over the interaction's attachment limit is re-encoded to fit", async () => {
    const limit = 600 * 1024;
    h.plans.set('Big pattern', { crf: 6 });
    const record = await deferred(video(alice, { duration: 10, topic: 'Big pattern' }, { attachmentSizeLimit: limit }));
    const message = await finished(record, 40_000);
    expect(message.history.some((r) => r.content.includes('Upload (shrinking to fit)'))).toBe(true);
    const attachment = message.attachments[0];
    expect(attachment?.size).toBeLessThanOrEqual(limit);
    const probed = await probeBytes(attachment?.data ?? Buffer.alloc(0), h.dataDir);
    expect(probed.video?.codec).toBe('h264');
    expect(probed.durationSec).toBeGreaterThan(9.8);
    expect(h.renders.find((r) => r.topic === 'Big pattern')).toBeDefined();
  }, 60_000);

  test('a 413 from Discord (40005) becomes a clear too-large message', async () => {
    h.fake.options.attachmentLimitBytes = 20 * 1024;
    const record = await deferred(video(alice, { duration: 10, topic: 'Overweight' }));
    await h.fake.waitFor(() => h.fake.original(record.id)?.content.includes('larger than'), 20_000, 'the refusal');
    const message = h.fake.original(record.id);
    expect(message?.content).toBe('The video came out larger than this chat accepts (10 MB). Try a shorter duration.');
    expect(message?.attachments).toEqual([]);
    expect(message?.components).toEqual([]);
    expect(h.fake.requests.some((r) => r.status === 413)).toBe(true);
    const jobId = jobIdByTopic('Overweight');
    await waitFor('the job to fail', async () => (await h.queue.get(jobId))?.state === 'failed', 5000);
  }, 30_000);
});

function jobIdByTopic(topic: string): string {
  return h.renders.find((r) => r.topic === topic)?.jobId ?? '';
}

describe('cancel', () => {
  test('the requester cancels with the button; the render stops and the message says so', async () => {
    h.plans.set('Endless', { hold: true });
    const record = await deferred(video(alice, { duration: 10, topic: 'Endless' }));
    const jobId = await jobOf(record);
    await waitFor('the render', () => h.renders.some((r) => r.jobId === jobId), 5000);
    const message = await h.fake.waitFor(() => {
      const m = h.fake.original(record.id);
      return m?.content.includes('✅ Script') ? m : undefined;
    }, 5000, 'progress');
    const press = h.fake.dispatchButton({
      customId: cancelButtonId(message) ?? '',
      messageId: message.id,
      from: { user: alice, permissions: MEMBER_PERMISSIONS },
      guildId: GUILD_ID,
      channelId: CHANNEL_ID,
    });
    await waitFor('the cancellation', async () => (await h.queue.get(jobId))?.state === 'cancelled', 5000);
    await h.fake.waitFor(() => h.fake.original(record.id)?.content === '✖ Cancelled.', 5000, 'the cancelled text');
    expect(press.callbackType).toBe(6);
    expect(h.fake.original(record.id)?.components).toEqual([]);
    await waitFor('the render to stop', () => h.renders.find((r) => r.jobId === jobId)?.aborted === true, 5000);
    // Nothing overwrites the final text afterwards.
    await sleep(EDIT_INTERVAL_MS * 2);
    expect(h.fake.original(record.id)?.content).toBe('✖ Cancelled.');
  }, 20_000);

  test("another user's press is refused privately; an admin can cancel any job by id", async () => {
    h.plans.set('Not yours', { hold: true });
    const record = await deferred(video(alice, { duration: 10, topic: 'Not yours' }));
    const jobId = await jobOf(record);
    const message = await h.fake.waitFor(() => {
      const m = h.fake.original(record.id);
      return cancelButtonId(m) ? m : undefined;
    }, 5000, 'the button');
    const press = h.fake.dispatchButton({
      customId: cancelButtonId(message) ?? '',
      messageId: message.id,
      from: { user: boris, permissions: MEMBER_PERMISSIONS },
      guildId: GUILD_ID,
      channelId: CHANNEL_ID,
    });
    expect(await replyOf(press)).toEqual({
      content: 'Only the person who asked for this video (or an admin) can cancel it.',
      ephemeral: true,
    });
    expect((await h.queue.get(jobId))?.state).toMatch(/waiting|active/);

    const byBoris = command(boris, 'cancel', [{ name: 'job', type: 3, value: jobId }]);
    expect((await replyOf(byBoris)).content).toBe('Only the person who asked for this video (or an admin) can cancel it.');

    const byAdmin = command(admin, 'cancel', [{ name: 'job', type: 3, value: jobId }]);
    expect(await editedReplyOf(byAdmin)).toEqual({ content: `Job ${jobId} cancelled.`, ephemeral: true });
    expect((await h.queue.get(jobId))?.state).toBe('cancelled');
    await h.fake.waitFor(() => h.fake.original(record.id)?.content === '✖ Cancelled.', 5000, 'the cancelled text');
  }, 20_000);

  test('/cancel without an id cancels your latest waiting job', async () => {
    await occupyWorker();
    const first = await deferred(video(alice, { duration: 10, topic: 'First in line' }));
    const second = await deferred(video(alice, { duration: 10, topic: 'Second in line' }));
    const secondId = await jobOf(second);
    const reply = command(alice, 'cancel');
    expect((await editedReplyOf(reply)).content).toBe(`Job ${secondId} cancelled.`);
    expect((await h.queue.get(secondId))?.state).toBe('cancelled');
    expect((await h.queue.get(await jobOf(first)))?.state).toBe('waiting');
    await h.fake.waitFor(() => h.fake.original(second.id)?.content === '✖ Cancelled.', 5000, 'the cancelled text');

    const nothing = command(boris, 'cancel', [], {});
    // Boris's only job is the running gate: that one is his latest, so it is cancelled too.
    expect((await editedReplyOf(nothing)).content).toMatch(/^Job j[0-9a-f]+ cancelled\.$/);
    const none = command(boris, 'cancel');
    expect((await replyOf(none)).content).toBe('You have no video waiting or being made.');
  }, 20_000);
});

describe('admin commands', () => {
  const MANAGE_GUILD = String(BigInt(MEMBER_PERMISSIONS) | 32n);

  test('/video captions:pop reaches the render with that caption style', async () => {
    const record = await deferred(video(alice, { duration: 10, topic: 'Popped', captions: 'pop' }));
    await finished(record);
    expect(h.renders.find((r) => r.topic === 'Popped')?.captions).toBe('pop');
  }, 30_000);

  test('/tier user sets an override that the next /video of that user runs with, and auto removes it', async () => {
    const set = command(
      admin,
      'tier',
      [{ name: 'user', type: 1, options: [{ name: 'user', type: 6, value: alice.id }, { name: 'tier', type: 3, value: 'quality' }] }],
      { resolved: { users: { [alice.id]: alice } } },
    );
    expect(await replyOf(set)).toEqual({ content: `Tier for <@${alice.id}>: quality.`, ephemeral: true });
    expect(await h.settings.getTier({ platform: 'discord', userId: alice.id })).toBe('quality');

    const record = await deferred(video(alice, { duration: 10, topic: 'Tiered', tier: 'ultra_fast' }));
    await finished(record);
    expect(h.renders.find((r) => r.topic === 'Tiered')?.tier).toBe('quality');

    const reset = command(
      admin,
      'tier',
      [{ name: 'user', type: 1, options: [{ name: 'user', type: 6, value: alice.id }, { name: 'tier', type: 3, value: 'auto' }] }],
      { resolved: { users: { [alice.id]: alice } } },
    );
    expect((await replyOf(reset)).content).toBe(`Tier for <@${alice.id}>: automatic (from the duration).`);
    expect(await h.settings.getTier({ platform: 'discord', userId: alice.id })).toBeUndefined();
  }, 30_000);

  test('/tier channel applies to everyone in this channel', async () => {
    const set = command(admin, 'tier', [{ name: 'channel', type: 1, options: [{ name: 'tier', type: 3, value: 'balanced' }] }]);
    expect((await replyOf(set)).content).toBe(`Tier for <#${CHANNEL_ID}>: balanced.`);
    expect(await h.settings.getTier({ platform: 'discord', userId: boris.id, chatId: CHANNEL_ID })).toBe('balanced');
    await h.settings.setTier({ kind: 'chat', platform: 'discord', chatId: CHANNEL_ID }, 'auto');
  });

  test('/stats and /queue answer admins privately', async () => {
    const gate = await occupyWorker('Queue sample');
    const stats = command(admin, 'stats');
    const statsReply = await replyOf(stats);
    expect(statsReply.ephemeral).toBe(true);
    expect(statsReply.content).toMatch(/^Queue: 1 running, 0 waiting\nJobs: /);

    const queue = command(admin, 'queue', [], { locale: 'ru' });
    const queueReply = await replyOf(queue);
    expect(queueReply.ephemeral).toBe(true);
    expect(queueReply.content).toContain(`${gate.jobId} · ⏳ в работе · 10 s · Queue sample · discord:${boris.id}`);
  }, 20_000);

  test('every admin command is refused to non-admins, even with Manage Server', async () => {
    const attempts = [
      command(boris, 'stats', [], { permissions: MANAGE_GUILD }),
      command(boris, 'queue', [], { permissions: MANAGE_GUILD }),
      command(boris, 'tier', [{ name: 'channel', type: 1, options: [{ name: 'tier', type: 3, value: 'quality' }] }], { permissions: MANAGE_GUILD }),
      command(alice, 'stats'),
      command(alice, 'queue', [], { locale: 'ru' }),
      command(alice, 'tier', [{ name: 'user', type: 1, options: [{ name: 'user', type: 6, value: alice.id }, { name: 'tier', type: 3, value: 'quality' }] }], {
        resolved: { users: { [alice.id]: alice } },
      }),
    ];
    const replies = await Promise.all(attempts.map((a) => replyOf(a)));
    for (const [i, reply] of replies.entries()) {
      expect(reply.ephemeral).toBe(true);
      expect(reply.content).toBe(i === 4 ? 'Извините, эта команда только для админов бота.' : 'Sorry, that command is for the bot admins only.');
    }
    expect(await h.settings.getTier({ platform: 'discord', userId: alice.id, chatId: CHANNEL_ID })).toBeUndefined();
  });

  test('/help lists the admin commands only for admins', async () => {
    const forMember = await replyOf(command(alice, 'help'));
    const forAdmin = await replyOf(command(admin, 'help'));
    expect(forMember.ephemeral).toBe(true);
    expect(forMember.content).toContain('/video duration:30 topic:The fall of Constantinople');
    expect(forMember.content).not.toContain('/stats');
    expect(forAdmin.content).toContain('/stats');
  });
});

describe('shared queue', () => {
  test('Telegram and Discord users are served in interleaved order', async () => {
    const gate = await occupyWorker();
    const telegramTarget: TelegramTarget = { platform: 'telegram', chatId: 4242, locale: 'en' };
    for (let i = 1; i <= 3; i++) {
      await h.queue.enqueue(
        {
          request: validateVideoRequest({ duration: 10, topic: `Telegram topic ${i}` }),
          owner: { platform: 'telegram', userId: '4242', chatId: '4242' },
          target: telegramTarget,
          createdAt: Date.now(),
        },
        { idempotencyKey: `telegram:4242:${i}` },
      );
    }
    const discordRecords: InteractionRecord[] = [];
    for (let i = 1; i <= 3; i++) discordRecords.push(await deferred(video(alice, { duration: 10, topic: `Discord topic ${i}` })));
    await h.fake.waitFor(() => /#6 in line/.test(h.fake.original(discordRecords[2]?.id ?? '')?.content ?? ''), 5000, 'place 6');

    const startIndex = h.renders.length;
    await h.queue.cancel(gate.jobId);
    await waitFor('six renders', () => h.renders.length >= startIndex + 6, 40_000);
    for (const record of discordRecords) await finished(record, 20_000);
    const order = h.renders.slice(startIndex).map((r) => r.topic);
    expect(order).toEqual([
      'Telegram topic 1',
      'Discord topic 1',
      'Telegram topic 2',
      'Discord topic 2',
      'Telegram topic 3',
      'Discord topic 3',
    ]);
    // Each Discord message followed its place in line as the jobs ahead finished.
    const places = (h.fake.original(discordRecords[2]?.id ?? '')?.history ?? []).map((r) => /#(\d) in line/.exec(r.content)?.[1]).filter(Boolean);
    expect(places[0]).toBe('6');
    expect(places.at(-1)).not.toBe('6');
  }, 60_000);
});

describe('rate limits and secrets', () => {
  test('429s (per route and global) are waited out by the REST client, logged, and never leak a token', async () => {
    h.fake.rateLimit({ method: 'PATCH', path: /^\/webhooks\//, retryAfterSec: 0.4 });
    h.fake.rateLimit({ method: 'PATCH', path: /^\/webhooks\//, retryAfterSec: 0.3, global: true });
    const record = await deferred(video(alice, { duration: 10, topic: 'Patience' }));
    const message = await finished(record);
    expect(message.attachments).toHaveLength(1);
    expect(h.fake.requests.filter((r) => r.status === 429)).toHaveLength(2);
    const limited = h.logs.filter((l) => l.line === 'discord rate limited (429)');
    expect(limited.map((l) => l.fields?.global)).toEqual([false, true]);
    expect(limited[0]?.fields?.route).toBe('/webhooks/:id/:token/messages/@original');

    const everything = JSON.stringify(h.logs);
    expect(everything).not.toContain(TOKEN);
    for (const interaction of h.fake.interactions.values()) expect(everything).not.toContain(interaction.token);
  }, 30_000);
});
