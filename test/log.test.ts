import { describe, expect, it } from 'vitest';
import { ReelforgeError } from '../src/core/errors.js';
import { createLogger, createMemoryLogger, prettyLine } from '../src/log.js';

describe('createLogger', () => {
  it('writes one JSON object a line with time, level and msg', () => {
    const lines: string[] = [];
    const log = createLogger('info', [], (l) => lines.push(l));
    log.info('hello', { n: 1 });
    log.warn('careful');
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({ level: 'info', msg: 'hello', n: 1 });
    expect(new Date(String(first.time)).toISOString()).toBe(first.time);
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: 'warn', msg: 'careful' });
  });

  it('masks every secret wherever it appears: message, fields, nested fields, errors and their causes', () => {
    const lines: string[] = [];
    const log = createLogger('info', ['123456:telegram-token', 'sk-live-abcdef', 'pa"ss\\word', undefined, 'abc'], (l) => lines.push(l));
    const cause = new Error('upstream said sk-live-abcdef is wrong');
    log.info('GET https://api.telegram.org/bot123456:telegram-token/getMe failed', {
      key: 'sk-live-abcdef',
      nested: { deeper: ['x', { url: 'redis://:pa"ss\\word@host' }] },
      error: new ReelforgeError('provider_unavailable', 'bad key sk-live-abcdef', { cause }),
    });
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line).not.toContain('telegram-token');
    expect(line).not.toContain('sk-live-abcdef');
    expect(line).not.toContain('ss\\\\word');
    expect(line).toContain('bot***/getMe');
    const entry = JSON.parse(line) as { error: { type: string; code: string; message: string; cause: { message: string } } };
    expect(entry.error).toMatchObject({ type: 'ReelforgeError', code: 'provider_unavailable', message: 'bad key ***' });
    expect(entry.error.cause.message).toBe('upstream said *** is wrong');
    // Secrets too short to mask safely are ignored rather than turning every "abc" into stars.
    log.info('abc');
    expect(JSON.parse(lines[1]!)).toMatchObject({ msg: 'abc' });
  });

  it('drops lines below its level', () => {
    const lines: string[] = [];
    const log = createLogger('warn', [], (l) => lines.push(l));
    log.info('hidden');
    log.debug('hidden');
    log.warn('shown');
    log.error('shown too');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['shown', 'shown too']);
  });

  it('child loggers put their bindings on every line, and keep masking', () => {
    const log = createMemoryLogger(['secret-token-1']);
    const job = log.child({ jobId: 'j1', platform: 'telegram', user: '42', chat: '-100' });
    job.info('stage done', { stage: 'script' });
    job.child({ attempt: 2 }).error('failed with secret-token-1');
    expect(log.entries).toMatchObject([
      { msg: 'stage done', jobId: 'j1', platform: 'telegram', user: '42', chat: '-100', stage: 'script' },
      { level: 'error', msg: 'failed with ***', jobId: 'j1', attempt: 2 },
    ]);
  });

  it('prints a short human line for a terminal', () => {
    const line = prettyLine(JSON.stringify({ level: 'warn', time: '2026-01-02T03:04:05.678Z', pid: 1, msg: 'job failed', jobId: 'ab12', error: { code: 'x' } }));
    expect(line).toBe('03:04:05.678 WARN  job failed  jobId=ab12 error={"code":"x"}');
    const lines: string[] = [];
    createLogger('info', ['hidden-secret'], (l) => lines.push(l), { pretty: true }).info('with hidden-secret', { a: 1 });
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}with \*\*\* {2}a=1$/);
  });
});
