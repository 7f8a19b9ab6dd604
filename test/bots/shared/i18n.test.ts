import { describe, expect, it } from 'vitest';
import { botTexts, errorText, formatClock, pickLocale } from '../../../src/bots/shared/i18n.js';
import { badInput, ERROR_CODES, ReelforgeError, tooLarge } from '../../../src/core/errors.js';
import { parseDuration, validateVideoRequest } from '../../../src/core/request.js';
import { STAGES } from '../../../src/core/progress.js';

describe('bot texts', () => {
  it('speaks Russian to ru-* locales and English to everyone else', () => {
    expect(pickLocale('ru')).toBe('ru');
    expect(pickLocale('ru-RU')).toBe('ru');
    expect(pickLocale('en-GB')).toBe('en');
    expect(pickLocale('uk')).toBe('en');
    expect(pickLocale(undefined)).toBe('en');
  });

  it('has a user message for every error code in both languages, never the internal message', () => {
    for (const locale of ['en', 'ru']) {
      for (const code of ERROR_CODES) {
        const text = errorText(new ReelforgeError(code, 'INTERNAL DETAIL at foo.ts:12'), locale);
        expect(text.length, `${locale} ${code}`).toBeGreaterThan(10);
        expect(text).not.toContain('INTERNAL DETAIL');
        expect(text).not.toContain('undefined');
      }
    }
  });

  it('explains each kind of bad input from the error params', () => {
    const caught = (fn: () => unknown): ReelforgeError => {
      try {
        fn();
      } catch (error) {
        return error as ReelforgeError;
      }
      throw new Error('expected a throw');
    };
    expect(errorText(caught(() => parseDuration('abc')), 'en')).toMatch(/whole seconds from 10 to 180/);
    expect(errorText(caught(() => parseDuration('999')), 'ru')).toBe('Видео может длиться от 10 до 180 секунд, а не 999.');
    expect(errorText(caught(() => validateVideoRequest({ topic: '' })), 'en')).toMatch(/^Tell me what the video is about/);
    expect(errorText(caught(() => validateVideoRequest({ topic: 'x'.repeat(5000) })), 'en')).toBe(
      'The topic is too long (5000 characters): keep it under 300.',
    );
    expect(errorText(caught(() => validateVideoRequest({ topic: 'x', tier: 'turbo' })), 'en')).toMatch(/Unknown tier/);
    expect(errorText(tooLarge(60 * 1048576, 50 * 1048576), 'en')).toMatch(/\(50 MB\)/);
    expect(errorText(tooLarge(undefined, 9.5 * 1048576), 'ru')).toMatch(/\(9\.5 МБ\)/);
    expect(errorText(tooLarge(undefined, undefined), 'en')).toBe('The video came out too large to send in this chat. Try a shorter duration.');
    expect(errorText(caught(() => validateVideoRequest({ topic: 'x', captions: 'neon' })), 'en')).toBe('Unknown caption style: use clean, karaoke or pop.');
    expect(errorText(caught(() => validateVideoRequest({ topic: 'x', captions: 'neon' })), 'ru')).toBe('Неизвестный стиль субтитров: clean, karaoke или pop.');
    const tooLong = badInput('script_too_long_for_duration', 'internal', { value: 95, max: 30 });
    expect(errorText(tooLong, 'en')).toBe('The script takes about 95 s to read, much longer than 30 s asked: shorten it or ask for a longer video.');
    expect(errorText(tooLong, 'ru')).toMatch(/^Сценарий читается около 95 с — гораздо дольше заказанных 30 с/);
  });

  it('names the caption styles and the chat default in both languages', () => {
    expect(botTexts('ru').captionsSet('pop')).toBe('Субтитры в этом чате: pop (крупные заглавные слова, главное — цветом).');
    expect(botTexts('ru').captionsSet('auto')).toMatch(/^Субтитры в этом чате: по умолчанию, karaoke/);
    const usage = botTexts('ru').captionsUsage('clean');
    expect(usage.split('\n')).toHaveLength(5);
    expect(usage).toMatch(/^Формат: \/captions <clean\|karaoke\|pop\|auto>/);
    expect(usage).toMatch(/Сейчас: clean \(короткие фразы\)\.$/);
    expect(botTexts('ru').help({ style: 'telegram', isAdmin: true })).toContain('/captions <clean|karaoke|pop|auto>');
  });

  it('says the place in line and a rough wait', () => {
    expect(botTexts('en').queued(2, 75)).toBe('⏳ Queued, #2 in line, about 1 min');
    expect(botTexts('en').queued(1, 20)).toBe('⏳ Queued, next in line, under a minute');
    expect(botTexts('ru').queued(3, 180)).toBe('⏳ В очереди, №3, около 3 мин');
  });

  it('names every stage and builds the caption', () => {
    for (const stage of STAGES) expect(botTexts('ru').stage(stage)).toMatch(/^[А-Я]/);
    expect(botTexts('en').caption('Tea', 75, '15 tokens')).toBe('Tea\nLength 1:15\n15 tokens');
    expect(formatClock(9.6)).toBe('0:10');
  });
});
