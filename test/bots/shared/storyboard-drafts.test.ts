/** The chat storyboard's pure parts: reading an edit, and a message that fits the platform's limit. */
import { describe, expect, it } from 'vitest';
import { draftText, parseEdit, type Draft } from '../../../src/bots/shared/storyboard-drafts.js';

describe('parseEdit', () => {
  it('reads a new line or a new picture by scene number, in English or Russian', () => {
    expect(parseEdit('3: A new line.')).toEqual({ kind: 'narration', scene: 3, text: 'A new line.' });
    expect(parseEdit(' 12 picture: a red kite over hills ')).toEqual({ kind: 'picture', scene: 12, text: 'a red kite over hills' });
    expect(parseEdit('2 Picture - a ship')).toEqual({ kind: 'picture', scene: 2, text: 'a ship' });
    expect(parseEdit('4 картинка: чайный куст')).toEqual({ kind: 'picture', scene: 4, text: 'чайный куст' });
    expect(parseEdit('#5. Line five')).toEqual({ kind: 'narration', scene: 5, text: 'Line five' });
  });

  it('is not an edit without a scene number or without text', () => {
    expect(parseEdit('make it nicer')).toBeUndefined();
    expect(parseEdit('3:   ')).toBeUndefined();
    expect(parseEdit('picture: a ship')).toBeUndefined();
  });
});

describe('draftText', () => {
  const draft = (scenes: number, words: number): Draft => ({
    storyboard: {
      version: 1, title: 'Tea', topic: 'tea', language: 'en', tier: 'quality', seconds: 180, aspect: '9:16', mood: 'calm', draft: false,
      segments: Array.from({ length: scenes }, (_, i) => ({ narration: `Line ${i + 1} ${'word '.repeat(words)}`.trim(), picture: `Picture ${i + 1} ${'detail '.repeat(40)}`.trim(), people: [] })),
    },
    owner: { platform: 'telegram', userId: '1', chatId: '1' },
    scriptUsd: 0.0012,
    locale: 'en',
    expiresAt: Date.now() + 30 * 60_000,
    revision: 0,
  });

  it('shows every scene numbered, with its picture shortened, the estimate and how to edit', () => {
    const text = draftText(draft(3, 5), { usd: 0.0456, sec: 125 }, 4096);
    expect(text.split('\n')[0]).toBe('🎬 Tea (3:00)');
    expect(text).toMatch(/\n1\. Line 1 word word word word word\n {3}🖼 Picture 1 detail .+…\n/);
    expect(text).toContain('Rendering: ~$0.046, about 2 min. The script cost ~$0.0012');
    expect(text).toContain('Expires in 30 min unless rendered.');
  });

  it('fits a long storyboard under the limit, every scene still there', () => {
    const text = draftText(draft(36, 60), { usd: 0.2, sec: 120 }, 2000);
    expect(text.length).toBeLessThanOrEqual(2000);
    expect(text).toContain('\n36. ');
  });
});
