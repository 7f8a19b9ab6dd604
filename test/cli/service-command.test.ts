import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

async function reelforge(args: string[], extra: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(OPENAI_|TELEGRAM_|DISCORD_|REDIS_URL|ROLE|ADMIN_IDS)/.test(k)) env[k] = v;
  try {
    await run(process.execPath, [resolve('bin/reelforge.mjs'), ...args], { env: { ...env, DATA_DIR: '/tmp/reelforge-unused', ...extra }, timeout: 30_000 });
    return { code: 0, stderr: '' };
  } catch (error) {
    const e = error as { code?: number; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stderr: e.stderr ?? '' };
  }
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
