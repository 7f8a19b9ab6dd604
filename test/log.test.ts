import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';

describe('createLogger', () => {
  it('masks every secret wherever it appears, in the message and in fields', () => {
    const lines: string[] = [];
    const log = createLogger('info', ['123456:telegram-token', 'sk-live-abcdef', undefined, 'abc'], (l) => lines.push(l));
    log.info('GET https://api.telegram.org/bot123456:telegram-token/getMe failed', { key: 'sk-live-abcdef', error: new Error('bad key sk-live-abcdef') });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('telegram-token');
    expect(lines[0]).not.toContain('sk-live-abcdef');
    expect(lines[0]).toContain('bot***/getMe');
    // Secrets too short to mask safely are ignored rather than turning every "abc" into stars.
    log.info('abc');
    expect(lines[1]).toMatch(/INFO {2}abc$/);
  });

  it('drops lines below its level', () => {
    const lines: string[] = [];
    const log = createLogger('warn', [], (l) => lines.push(l));
    log.info('hidden');
    log.debug('hidden');
    log.warn('shown');
    log.error('shown too');
    expect(lines.map((l) => l.split(' ').slice(2).join(' ').trim())).toEqual(['shown', 'shown too']);
  });
});
