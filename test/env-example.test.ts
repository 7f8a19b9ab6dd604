import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, loadConfig } from '../src/config.js';

describe('.env.example', () => {
  it('lists exactly the variables the config schema reads, each once', async () => {
    const text = await readFile('.env.example', 'utf8');
    const keys = [...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual([...CONFIG_KEYS].sort());
  });

  it('parses as it is, and with every commented example switched on', async () => {
    const text = await readFile('.env.example', 'utf8');
    const env = (uncomment: boolean): Record<string, string> =>
      Object.fromEntries(
        [...text.matchAll(uncomment ? /^#?\s*([A-Z][A-Z0-9_]*)=(.*)$/gm : /^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]),
      );
    expect(() => loadConfig(env(false))).not.toThrow();
    const all = env(true);
    // The examples use REDIS_URL and ROLE=all; DISCORD needs its application id, given as empty.
    const config = loadConfig({ ...all, DISCORD_BOT_TOKEN: '', TELEGRAM_WEBHOOK_URL: '' });
    expect(config.metrics).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(config.access.allowedUsers).toEqual(new Set(['telegram:123', 'discord:456']));
    expect(config.access.limits).toEqual({ userVideos: 5, userUsd: 0.5, budgetUsd: 5 });
  });
});

describe('access, limits and metrics variables', () => {
  it('lists every problem at once, cross-field ones included', () => {
    let message = '';
    try {
      loadConfig({ ALLOWED_USERS: 'telegram:12,bob', ALLOWED_CHATS: 'slack:1', USER_DAILY_USD: 'lots', DAILY_BUDGET_USD: '-1', METRICS_PORT: '99999' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('ALLOWED_USERS: "bob" is not like telegram:123');
    expect(message).toContain('ALLOWED_CHATS: "slack:1"');
    expect(message).toContain('USER_DAILY_USD: must be an amount in dollars');
    expect(message).toContain('DAILY_BUDGET_USD: must be above 0');
    expect(message).toContain('METRICS_PORT: must be a port number');
    expect(() => loadConfig({ METRICS_HOST: '0.0.0.0' })).toThrow(/METRICS_HOST: has no effect without METRICS_PORT/);
    expect(() => loadConfig({ USER_DAILY_USD: '2', DAILY_BUDGET_USD: '1' })).toThrow(/USER_DAILY_USD: is above DAILY_BUDGET_USD/);
  });

  it('leaves everyone in, with no limits and no metrics server, when nothing is set', () => {
    const config = loadConfig({});
    expect(config.metrics).toBeNull();
    expect(config.access).toEqual({ allowedUsers: null, allowedChats: null, limits: {} });
  });
});
