import { describe, expect, it } from 'vitest';
import { runReelforge } from '../helpers/reelforge-process.js';

function reelforge(args: string[], extra: Record<string, string>): ReturnType<typeof runReelforge> {
  return runReelforge(args, { DATA_DIR: '/tmp/reelforge-unused', ...extra }, 30_000);
}

describe('reelforge bot / worker start-up checks', () => {
  it('refuses to start a bot with no bot configured', async () => {
    const result = await reelforge(['bot'], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/TELEGRAM_BOT_TOKEN/);
  });

  it('refuses to start a worker without Redis', async () => {
    const result = await reelforge(['worker'], { TELEGRAM_BOT_TOKEN: '123:abc' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/REDIS_URL/);
  });

  it('lists every configuration problem at once, without echoing secrets', async () => {
    const result = await reelforge(['bot'], {
      TELEGRAM_BOT_TOKEN: '123456:secret-token-value',
      ADMIN_IDS: 'alice',
      TELEGRAM_API_ROOT: 'not a url',
      DISCORD_BOT_TOKEN: 'discord-secret-token',
      RENDER_CONCURRENCY: 'many',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ADMIN_IDS/);
    expect(result.stderr).toMatch(/TELEGRAM_API_ROOT/);
    expect(result.stderr).toMatch(/DISCORD_APPLICATION_ID/);
    expect(result.stderr).toMatch(/RENDER_CONCURRENCY/);
    expect(result.stderr).not.toContain('secret-token-value');
    expect(result.stderr).not.toContain('discord-secret-token');
  });
});
