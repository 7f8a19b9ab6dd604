import { describe, expect, it } from 'vitest';
import { paramsOf, ReelforgeError } from '../../src/core/errors.js';
import { aspectSize, parseVideoCommandText, validateVideoRequest } from '../../src/core/request.js';

function rejection(fn: () => unknown): ReelforgeError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ReelforgeError) return error;
    throw error;
  }
  throw new Error('expected a ReelforgeError');
}

describe('validateVideoRequest', () => {
  it('accepts a duration and a topic, detecting the language', () => {
    expect(validateVideoRequest({ duration: '30', topic: 'The fall of Constantinople' })).toEqual({
      topic: 'The fall of Constantinople',
      durationSec: 30,
      lang: 'en',
      aspect: '9:16',
    });
    expect(validateVideoRequest({ duration: 45, topic: 'Падение Константинополя' }).lang).toBe('ru');
  });

  it('defaults to 30 seconds and chooses no tier unless asked', () => {
    const request = validateVideoRequest({ topic: 'Tea' });
    expect(request.durationSec).toBe(30);
    expect(request.tier).toBeUndefined();
    expect(validateVideoRequest({ topic: 'Tea', tier: 'quality' }).tier).toBe('quality');
    expect(validateVideoRequest({ topic: 'Tea', tier: 'auto' }).tier).toBeUndefined();
  });

  it.each([
    ['abc', 'duration_not_number'],
    ['0', 'duration_range'],
    ['999', 'duration_range'],
    ['9', 'duration_range'],
    ['181', 'duration_range'],
    ['12.5', 'duration_not_number'],
  ])('refuses the duration %s saying what is allowed', (duration, reason) => {
    const error = rejection(() => validateVideoRequest({ duration, topic: 'x' }));
    expect(error.code).toBe('bad_input');
    expect(paramsOf(error, 'bad_input').reason).toBe(reason);
    expect(error.message).toMatch(/10 to 180/);
  });

  it('refuses an empty or huge topic', () => {
    expect(paramsOf(rejection(() => validateVideoRequest({ duration: 20, topic: '   ' })), 'bad_input').reason).toBe('topic_empty');
    const long = rejection(() => validateVideoRequest({ duration: 20, topic: 'x'.repeat(10_000) }));
    expect(paramsOf(long, 'bad_input').reason).toBe('topic_too_long');
    expect(long.message).toContain('10000');
  });

  it('cleans control characters and whitespace out of topics', () => {
    expect(validateVideoRequest({ topic: ' Tea\u0000 and\n\n  coffee ' }).topic).toBe('Tea and coffee');
  });

  it('refuses unknown tiers, aspects and languages', () => {
    expect(paramsOf(rejection(() => validateVideoRequest({ topic: 't', tier: 'max' })), 'bad_input').reason).toBe('tier');
    expect(paramsOf(rejection(() => validateVideoRequest({ topic: 't', aspect: '4:3' })), 'bad_input').reason).toBe('aspect');
    expect(paramsOf(rejection(() => validateVideoRequest({ topic: 't', lang: 'english!' })), 'bad_input').reason).toBe('lang');
  });

  it('takes its topic from the script when only a script is given', () => {
    const request = validateVideoRequest({ duration: 20, script: 'Tea came from China. It spread west.' });
    expect(request.topic).toBe('Tea came from China. It spread west.');
    expect(request.script).toBe('Tea came from China. It spread west.');
  });
});

describe('parseVideoCommandText', () => {
  it('splits a leading duration from the topic', () => {
    expect(parseVideoCommandText('30 The fall of Constantinople')).toEqual({ duration: '30', topic: 'The fall of Constantinople' });
    expect(parseVideoCommandText('45s Tea')).toEqual({ duration: '45s', topic: 'Tea' });
    expect(parseVideoCommandText('The fall of Constantinople')).toEqual({ topic: 'The fall of Constantinople' });
    expect(parseVideoCommandText('')).toEqual({ topic: '' });
  });

  it('keeps a number-looking first word as a duration so that /video 999 x is refused, not misread', () => {
    const parsed = parseVideoCommandText('999 x');
    expect(() => validateVideoRequest(parsed)).toThrow(/10 to 180/);
  });

  it('reads a leading number as the duration and keeps later numbers in the topic', () => {
    expect(parseVideoCommandText('1453 and the end of Byzantium')).toEqual({ duration: '1453', topic: 'and the end of Byzantium' });
    expect(parseVideoCommandText('Apollo 11')).toEqual({ topic: 'Apollo 11' });
  });
});

describe('aspectSize', () => {
  it('gives even sizes for each aspect', () => {
    expect(aspectSize('9:16')).toEqual({ width: 1080, height: 1920 });
    expect(aspectSize('16:9')).toEqual({ width: 1920, height: 1080 });
    expect(aspectSize('1:1')).toEqual({ width: 1080, height: 1080 });
    expect(aspectSize('9:16', 1280)).toEqual({ width: 720, height: 1280 });
  });
});

describe('caption style', () => {
  it('takes a known style and refuses an unknown one with a clear message', () => {
    expect(validateVideoRequest({ duration: 20, topic: 'Tea', captions: 'Pop' }).captions).toBe('pop');
    expect(validateVideoRequest({ duration: 20, topic: 'Tea' }).captions).toBeUndefined();
    expect(() => validateVideoRequest({ duration: 20, topic: 'Tea', captions: 'neon' })).toThrow(/Unknown caption style "neon": use clean, karaoke, pop/);
  });
});
