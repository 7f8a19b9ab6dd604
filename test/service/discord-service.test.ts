/**
 * `reelforge bot` as a process with only Discord configured: discord.js reaches the fake Discord
 * through DISCORD_API_BASE (REST, then the gateway URL from /gateway/bot), and the offline
 * pipeline's video comes back as an attachment on the deferred reply.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscordServer } from '../fakes/discord-server.js';
import { exited, startReelforge, stopAll } from '../helpers/reelforge-process.js';
import { probeBytes } from '../helpers/ffprobe.js';
import { waitFor } from '../helpers/wait-for.js';

const token = 'discord-bot-token-for-tests.abcdef';
const applicationId = '900000000000000001';
const guild = { id: '910000000000000001', name: 'Film club', channels: [{ id: '920000000000000001', name: 'videos' }] };
let fake: FakeDiscordServer;
let dataDir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  fake = await FakeDiscordServer.start({ token, applicationId, guilds: [guild] });
  dataDir = await mkdtemp(join(tmpdir(), 'reelforge-discord-service-'));
});
afterAll(async () => {
  await stopAll(children);
  await fake.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('reelforge bot (Discord, local queue, offline pipeline)', () => {
  it('registers /video, defers at once and posts the video into the edited reply', async () => {
    const bot = startReelforge(
      ['bot'],
      { DISCORD_BOT_TOKEN: token, DISCORD_APPLICATION_ID: applicationId, DISCORD_API_BASE: fake.apiBase, DISCORD_GUILD_ID: guild.id, DATA_DIR: dataDir },
      children,
    );
    await waitFor(
      'the bot to connect and register its commands',
      () => (fake.identifies.length > 0 && (fake.commands.guild.get(guild.id)?.length ?? 0) > 0 ? true : undefined),
      60_000,
      bot.output,
    );
    expect(fake.commands.guild.get(guild.id)!.map((c) => c.name)).toContain('video');

    const interaction = fake.dispatchCommand({
      name: 'video',
      options: [
        { name: 'duration', type: 4, value: 10 },
        { name: 'topic', type: 3, value: 'The history of tea' },
      ],
      from: { user: { id: '930000000000000001', username: 'ann' } },
      guildId: guild.id,
      channelId: guild.channels[0]!.id,
      locale: 'en-US',
    });

    const message = await waitFor(
      'the video attachment',
      () => {
        const original = fake.original(interaction.id);
        return original && original.attachments.length > 0 ? original : undefined;
      },
      240_000,
      bot.output,
    );
    // Deferred inside Discord's window, then one message edited in place up to the video.
    expect(interaction.callbackType).toBe(5);
    expect(interaction.acknowledgedAt! - interaction.createdAt).toBeLessThan(3000);
    expect(message.history.length).toBeGreaterThanOrEqual(3);
    expect(message.content).toMatch(/history of tea/i);
    const probe = await probeBytes(message.attachments[0]!.data, dataDir);
    expect(probe.codecs).toEqual(['aac', 'h264']);
    expect(probe.durationSec).toBeGreaterThan(8);

    bot.child.kill('SIGTERM');
    expect(await exited(bot.child)).toBe(0);
    expect(bot.output()).not.toContain(token);
  }, 300_000);
});
