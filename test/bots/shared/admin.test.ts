import { describe, expect, it } from 'vitest';
import { formatQueue, formatStats, isAdmin, parseTierArgs } from '../../../src/bots/shared/admin.js';
import type { JobInfo } from '../../../src/queue/types.js';

describe('admin helpers', () => {
  it('knows admins by platform and id', () => {
    const admins = new Set(['telegram:123', 'discord:456']);
    expect(isAdmin(admins, 'telegram', 123)).toBe(true);
    expect(isAdmin(admins, 'discord', '456')).toBe(true);
    expect(isAdmin(admins, 'discord', '123')).toBe(false);
  });

  it('parses /tier targets: chat, id, @username, a Discord mention, or the replied-to user', () => {
    expect(parseTierArgs('chat quality')).toEqual({ target: { kind: 'chat' }, tier: 'quality' });
    expect(parseTierArgs(' 42   BALANCED ')).toEqual({ target: { kind: 'user', userId: '42' }, tier: 'balanced' });
    expect(parseTierArgs('@Alice auto')).toEqual({ target: { kind: 'username', username: 'Alice' }, tier: 'auto' });
    expect(parseTierArgs('<@!987> ultra_fast')).toEqual({ target: { kind: 'user', userId: '987' }, tier: 'ultra_fast' });
    expect(parseTierArgs('quality', { hasReply: true })).toEqual({ target: { kind: 'reply' }, tier: 'quality' });
  });

  it('refuses malformed /tier arguments with bad_input reasons', () => {
    expect(() => parseTierArgs('')).toThrow(expect.objectContaining({ code: 'bad_input', params: { reason: 'tier_args' } }));
    expect(() => parseTierArgs('quality')).toThrow(expect.objectContaining({ params: { reason: 'tier_args' } }));
    expect(() => parseTierArgs('everyone quality')).toThrow(expect.objectContaining({ params: { reason: 'tier_args' } }));
    expect(() => parseTierArgs('chat turbo')).toThrow(expect.objectContaining({ params: { reason: 'tier' } }));
  });

  it('summarises /stats and /queue', () => {
    const stats = formatStats(
      { waiting: 2, active: 1, completed: 5, failed: 1, cancelled: 0 },
      { jobs: 6, completed: 5, failed: 1, cancelled: 0, tokens: 12345, costUsd: 0.0421, images: 60, videoSec: 300, users: 3 },
      'en',
    );
    expect(stats).toBe(
      'Queue: 1 running, 2 waiting\nJobs: 6 (5 done, 1 failed, 0 cancelled)\nUsers: 3\nTokens: 12,345, images: 60, video: 300 s\nCost: ~$0.0421',
    );
    const job = (id: string, state: JobInfo['state'], position?: number): JobInfo => ({
      id,
      state,
      ...(position ? { position } : {}),
      attempts: 0,
      createdAt: 0,
      data: {
        request: { topic: 'A very long topic about the history of tea in China and beyond', durationSec: 30, lang: 'en', aspect: '9:16' },
        owner: { platform: 'telegram', userId: '7' },
        target: null,
        createdAt: 0,
      },
    });
    expect(formatQueue([job('j1', 'active'), job('j2', 'waiting', 1)], 'en').split('\n')).toEqual([
      'j1 · ⏳ running · 30 s · A very long topic about the history of … · telegram:7',
      'j2 · ▫️ #1 · 30 s · A very long topic about the history of … · telegram:7',
    ]);
    expect(formatQueue([], 'ru')).toBe('Очередь пуста.');
    // Over a chat's limit: the lines that fit, then the count of the rest, never more than the limit.
    const many = Array.from({ length: 300 }, (_, i) => job(`j${i}`, 'waiting', i + 1));
    const clipped = formatQueue(many, 'en', 2000);
    expect(clipped.length).toBeLessThanOrEqual(2000);
    const lines = clipped.split('\n');
    expect(lines.at(-1)).toBe(`… and ${300 - (lines.length - 1)} more`);
    expect(lines[0]).toBe(formatQueue(many, 'en').split('\n')[0]);
    expect(formatQueue(many.slice(0, 3), 'en', 2000).split('\n')).toHaveLength(3);
  });
});
