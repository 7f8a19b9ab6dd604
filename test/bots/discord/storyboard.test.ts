/**
 * /storyboard in Discord: discord.js against the fake Discord (REST + gateway), the script from the
 * fake OpenAI server, the real worker render. No picture or voice before ▶️ Render; ✏️ opens a modal
 * whose answer edits the storyboard message in place; another user's press is refused privately.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { silentLogger } from '../../../src/log.js';
import { createJobRender, createRuntime, createStoryboardService } from '../../../src/main.js';
import { MemorySettingsStore } from '../../../src/store/memory-settings-store.js';
import { FakeOpenAiServer } from '../../fakes/openai-server.js';
import type { StoredMessage } from '../../fakes/discord-server.js';
import { alice, boris, CHANNEL_ID, commandOptions, delivered, GUILD_ID, MEMBER_PERMISSIONS, startHarness, type Harness } from './harness.js';

const KEY = 'sk-test-discord-storyboard-1234';
let h: Harness;
let openai: FakeOpenAiServer;
let dataDir: string;

beforeAll(async () => {
  openai = await FakeOpenAiServer.start({ apiKey: KEY, imageScale: 0.25 });
  dataDir = await mkdtemp(join(tmpdir(), 'reelforge-discord-sb-'));
  const config = loadConfig({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: openai.baseURL, DATA_DIR: dataDir });
  const runtime = createRuntime(config, silentLogger());
  const settings = new MemorySettingsStore();
  const storyboards = createStoryboardService(config, runtime.deps, { settings, policy: { adminIds: new Set(), allowedUsers: null, allowedChats: null, limits: {} } });
  h = await startHarness({ tokenLifetimeMs: 15 * 60_000, tokenMarginMs: 60_000, settings, storyboards, render: createJobRender(runtime, settings, config.storyboards.keepMs) });
}, 60_000);
afterAll(async () => {
  await h?.close();
  await openai?.close();
  await rm(dataDir, { recursive: true, force: true });
});

function paidSince(from: number): { chat: number; images: number; speech: number } {
  const since = openai.requests.slice(from);
  return {
    chat: since.filter((r) => r.path === '/v1/chat/completions').length,
    images: since.filter((r) => r.path === '/v1/images/generations').length,
    speech: since.filter((r) => r.path === '/v1/audio/speech').length,
  };
}

const customIds = (m: StoredMessage | undefined): string[] =>
  ((m?.components ?? []) as Array<{ components?: Array<{ custom_id?: string }> }>).flatMap((row) => (row.components ?? []).map((c) => c.custom_id ?? ''));

describe('/storyboard in Discord', () => {
  it('shows the scenes for one script call, edits through the modal, refuses another user, and renders on ▶️ Render', async () => {
    const from = openai.requests.length;
    const command = h.fake.dispatchCommand({
      name: 'storyboard',
      options: commandOptions({ duration: 12, topic: 'The history of tea' }),
      from: { user: alice, permissions: MEMBER_PERMISSIONS },
      guildId: GUILD_ID,
      channelId: CHANNEL_ID,
    });
    const board = await h.fake.waitFor(() => {
      const m = h.fake.original(command.id);
      return customIds(m).includes('reelforge:sb:render') ? m : undefined;
    }, 60_000, 'the storyboard message');
    expect(customIds(board)).toEqual(['reelforge:sb:render', 'reelforge:sb:new', 'reelforge:sb:edit', 'reelforge:sb:cancel']);
    expect(board.content).toMatch(/^🎬 .+ \(0:12\)/);
    expect(board.content).toMatch(/\n1\. .+\n {3}🖼 /);
    expect(board.content).toMatch(/Rendering: ~\$0\.\d{3}/);
    expect(paidSince(from)).toEqual({ chat: 1, images: 0, speech: 0 });
    const scenes = board.content.split('\n').filter((line) => /^\d+\. /.test(line)).length;

    // Another user's press: a private answer; nothing queued, the message unchanged.
    const foreign = h.fake.dispatchButton({ customId: 'reelforge:sb:render', messageId: board.id, from: { user: boris, permissions: MEMBER_PERMISSIONS }, guildId: GUILD_ID, channelId: CHANNEL_ID });
    const refusal = await h.fake.waitFor(() => h.fake.original(foreign.id), 10_000, 'the refusal');
    expect(refusal.content).toBe('Only the person who asked for this (or an admin) can use these buttons.');
    expect(refusal.flags & 64).toBe(64);
    expect((await h.queue.stats()).waiting + (await h.queue.stats()).active).toBe(0);

    // ✏️ opens the modal; its answer edits the same message in place (a component update).
    const edit = h.fake.dispatchButton({ customId: 'reelforge:sb:edit', messageId: board.id, from: { user: alice, permissions: MEMBER_PERMISSIONS }, guildId: GUILD_ID, channelId: CHANNEL_ID });
    await h.fake.waitFor(() => edit.callbackType === 9, 10_000, 'the modal');
    const modal = edit.callbacks[0]?.data as { custom_id: string; components: Array<{ components: Array<{ custom_id: string }> }> };
    expect(modal.components.map((row) => row.components[0]?.custom_id)).toEqual(['scene', 'line', 'picture']);
    const submit = h.fake.dispatchModalSubmit({
      customId: modal.custom_id,
      messageId: board.id,
      fields: { scene: '2', line: 'Tea clippers raced home across the oceans.', picture: 'A clipper ship under full sail at dawn' },
      from: { user: alice, permissions: MEMBER_PERMISSIONS },
      guildId: GUILD_ID,
      channelId: CHANNEL_ID,
    });
    await h.fake.waitFor(() => submit.callbackType === 7, 10_000, 'the update');
    const edited = h.fake.messages.get(board.id)!;
    expect(edited.content).toContain('✏️ Scene 2 changed.');
    expect(edited.content).toMatch(/\n2\. Tea clippers raced home across the oceans\.\n {3}🖼 A clipper ship under full sail at dawn/);
    expect(customIds(edited)).toContain('reelforge:sb:render');
    expect(paidSince(from)).toEqual({ chat: 1, images: 0, speech: 0 });

    // ▶️ Render: a new progress message becomes the video; pictures and voices only now.
    const beforeRender = openai.requests.length;
    const render = h.fake.dispatchButton({ customId: 'reelforge:sb:render', messageId: board.id, from: { user: alice, permissions: MEMBER_PERMISSIONS }, guildId: GUILD_ID, channelId: CHANNEL_ID });
    const video = await h.fake.waitFor(() => delivered(h.fake.original(render.id)), 300_000, 'the video');
    expect(video.id).not.toBe(board.id);
    expect(paidSince(beforeRender)).toEqual({ chat: 0, images: scenes, speech: scenes });
    expect(openai.requests.some((r) => r.path === '/v1/audio/speech' && r.body.input === 'Tea clippers raced home across the oceans.')).toBe(true);
    expect(openai.requests.some((r) => r.path === '/v1/images/generations' && JSON.stringify(r.body).includes('A clipper ship under full sail at dawn'))).toBe(true);
    const closed = h.fake.messages.get(board.id)!;
    expect(closed.content).toMatch(/^▶️ Rendering/);
    expect(closed.components).toEqual([]);

    // Under the video: 🔁 ✏️ 🎙. Someone else is refused privately; the requester re-rolls scene 2.
    const jobId = /^reelforge:rm:roll:(\w+)$/.exec(customIds(video)[0] ?? '')?.[1] ?? '';
    expect(customIds(video)).toEqual([`reelforge:rm:roll:${jobId}`, `reelforge:rm:edit:${jobId}`, `reelforge:rm:voice:${jobId}`]);
    const notYours = h.fake.dispatchButton({ customId: `reelforge:rm:roll:${jobId}`, messageId: video.id, from: { user: boris, permissions: MEMBER_PERMISSIONS }, guildId: GUILD_ID, channelId: CHANNEL_ID });
    expect((await h.fake.waitFor(() => h.fake.original(notYours.id), 10_000, 'the refusal')).content).toBe('Only the person who asked for this (or an admin) can use these buttons.');
    const roll = h.fake.dispatchButton({ customId: `reelforge:rm:roll:${jobId}`, messageId: video.id, from: { user: alice, permissions: MEMBER_PERMISSIONS }, guildId: GUILD_ID, channelId: CHANNEL_ID });
    const picker = await h.fake.waitFor(() => h.fake.original(roll.id), 10_000, 'the scene picker');
    expect(picker.flags & 64).toBe(64);
    expect(customIds(picker)).toEqual(Array.from({ length: scenes }, (_, n) => `reelforge:rm:scene:${jobId}:${n + 1}`));
    const beforeReroll = openai.requests.length;
    const pick = h.fake.dispatchButton({ customId: `reelforge:rm:scene:${jobId}:2`, messageId: picker.id, from: { user: alice, permissions: MEMBER_PERMISSIONS }, guildId: GUILD_ID, channelId: CHANNEL_ID });
    const rerolled = await h.fake.waitFor(() => delivered(h.fake.original(pick.id)), 300_000, 'the re-rolled video');
    expect(paidSince(beforeReroll)).toEqual({ chat: 0, images: 1, speech: 0 });
    expect(rerolled.content).toContain(`made now: 1 pictures, 0 voices, 1 of ${scenes} segments`);
  }, 400_000);
});
