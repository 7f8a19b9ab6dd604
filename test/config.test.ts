import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('runs offline with defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.openai).toBeNull();
    expect(config.telegram).toBeNull();
    expect(config.discord).toBeNull();
    expect(config.role).toBe('all');
    expect(config.dataDir).toMatch(/data$/);
    expect(config.concurrency.render).toBeGreaterThanOrEqual(1);
    expect(config.limits).toEqual({ maxWaiting: 50, userActive: 1, userWaiting: 2 });
  });

  it('uses an OpenAI-compatible server when only a base URL is set', () => {
    const config = loadConfig({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1', LLM_MODEL: 'llama3.1' });
    expect(config.openai).toMatchObject({ baseURL: 'http://127.0.0.1:11434/v1', llmModel: 'llama3.1', ttsVoice: 'alloy' });
  });

  it('makes webhook mode a variant that carries its own fields', () => {
    const polling = loadConfig({ TELEGRAM_BOT_TOKEN: '1:a' });
    expect(polling.telegram?.mode).toEqual({ kind: 'polling' });
    expect(polling.telegram?.uploadLimitBytes).toBe(50 * 1024 * 1024);
    const webhook = loadConfig({ TELEGRAM_BOT_TOKEN: '1:a', TELEGRAM_WEBHOOK_URL: 'https://bot.example/tg', TELEGRAM_WEBHOOK_SECRET: 's3cret' });
    expect(webhook.telegram?.mode).toEqual({ kind: 'webhook', url: 'https://bot.example/tg', secret: 's3cret', port: 8080 });
  });

  it('parses admins and refuses malformed ones', () => {
    expect([...loadConfig({ ADMIN_IDS: 'telegram:1, discord:22' }).adminIds]).toEqual(['telegram:1', 'discord:22']);
    expect(() => loadConfig({ ADMIN_IDS: 'telegram:x' })).toThrow(/ADMIN_IDS/);
  });

  it('lists every problem together', () => {
    let message = '';
    try {
      loadConfig({ ROLE: 'worker', GENERATION_CONCURRENCY: '0', PRICING_JSON: '{', TELEGRAM_WEBHOOK_URL: 'https://x.example' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('4 problem(s)');
    for (const name of ['ROLE', 'GENERATION_CONCURRENCY', 'PRICING_JSON', 'TELEGRAM_WEBHOOK_SECRET']) expect(message).toContain(name);
  });
});
