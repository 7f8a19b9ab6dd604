/**
 * Property-based fuzzing of everything that parses a user's words: the chat `/video` text, the
 * Discord options, `/tier` arguments, the CLI's `video` arguments. Thousands of generated inputs
 * (control and zero-width characters, right-to-left text, emoji, 100 KB topics, markup, shell
 * metacharacters, path traversal): never an unexpected exception, always a clear answer, either a
 * valid request or a typed `bad_input` error that both languages can explain.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseVideoArgs } from '../../src/cli.js';
import { parseTierArgs } from '../../src/bots/shared/admin.js';
import { errorText } from '../../src/bots/shared/i18n.js';
import { jobIdFromCustomId } from '../../src/bots/discord/messages.js';
import { ReelforgeError } from '../../src/core/errors.js';
import {
  MAX_DURATION_SEC,
  MAX_TOPIC_CHARS,
  MIN_DURATION_SEC,
  parseVideoCommandText,
  validateVideoRequest,
  type VideoRequest,
} from '../../src/core/request.js';
import { isTier } from '../../src/core/tiers.js';

const NASTY = [
  '\u0000', '\u0007', '\b', '\t', '\n', '\r', '\u001b[31m', '\u007f', '\u0085', '\u00a0',
  '\u200b', '\u200c', '\u200d', '\u200e', '\u200f', '\u202e', '\u2066', '\u2028', '\u2029', '\ufeff', '\ufffd',
  'שלום עולם', 'مرحبا بالعالم', '\u202eevil\u202c', 'История чая', '日本の歴史', '🎬', '👩‍👩‍👧‍👦', '🇺🇦', '\ud83d', '\udc00',
  '<b>bold</b>', '<script>alert(1)</script>', '*bold* _it_ `code` [link](http://x)', '@everyone', '<@123>', '<#456>', '||spoiler||',
  '$(rm -rf /)', '`reboot`', '; cat /etc/passwd', '| nc evil 1', '&& shutdown', '> /dev/sda', "'\"", '%s%n%x', '${HOME}',
  '../../etc/passwd', '..\\..\\windows\\system32', '/dev/zero', 'C:\\con', 'file:///etc/shadow',
  '30', '-5', '0', '999', '1e3', '30s', '30 seconds', '0x1e', '٣٠', '３０', 'NaN', 'Infinity', '10.5', '  ', '',
  'auto', 'quality', 'balanced', 'ultra_fast', 'chat', '@bob', '123456',
];

/** Strings built from the nasty pieces, random text of every kind, and both mixed. */
const piece = fc.oneof(
  fc.constantFrom(...NASTY),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 40 }),
);
const words = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(' '));
const text = fc.oneof(
  { weight: 8, arbitrary: words },
  { weight: 1, arbitrary: fc.constantFrom(...NASTY).map((s) => `30 ${s.repeat(Math.ceil(100_000 / Math.max(1, s.length)))}`) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 301, maxLength: 2000 }) },
);

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function expectValidRequest(request: VideoRequest): void {
  expect(request.durationSec).toBeGreaterThanOrEqual(MIN_DURATION_SEC);
  expect(request.durationSec).toBeLessThanOrEqual(MAX_DURATION_SEC);
  expect(Number.isInteger(request.durationSec)).toBe(true);
  expect(request.topic.length).toBeGreaterThan(0);
  expect(request.topic.length).toBeLessThanOrEqual(MAX_TOPIC_CHARS);
  expect(request.topic).not.toMatch(CONTROL);
  expect(request.topic).toBe(request.topic.trim());
  expect(request.lang).toMatch(/^[a-z]{2,3}$/);
  if (request.tier !== undefined) expect(isTier(request.tier)).toBe(true);
}

/** A refusal must be typed and explainable in both languages, without echoing a 100 KB input. */
function expectClearRefusal(error: unknown): void {
  expect(error).toBeInstanceOf(ReelforgeError);
  const e = error as ReelforgeError;
  expect(e.code).toBe('bad_input');
  expect(e.message.length).toBeLessThan(400);
  for (const locale of ['en', 'ru']) {
    const answer = errorText(e, locale);
    expect(answer.length).toBeGreaterThan(0);
    expect(answer.length).toBeLessThan(400);
  }
}

function answerOf<T>(parse: () => T, check: (value: T) => void): void {
  let value: T;
  try {
    value = parse();
  } catch (error: unknown) {
    expectClearRefusal(error);
    return;
  }
  check(value);
}

const RUNS = { numRuns: 2000 };

describe('command parsing under fuzzing', () => {
  it('a chat /video text is a valid request or a clear bad_input, never anything else', () => {
    fc.assert(
      fc.property(text, (input) => {
        answerOf(() => {
          const parsed = parseVideoCommandText(input);
          return validateVideoRequest({ topic: parsed.topic, ...(parsed.duration !== undefined ? { duration: parsed.duration } : {}) });
        }, expectValidRequest);
      }),
      RUNS,
    );
  });

  it('Discord options (any duration number, topic and tier text) give a valid request or a clear bad_input', () => {
    const duration = fc.oneof(fc.integer(), fc.double(), fc.constant(undefined), fc.integer({ min: MIN_DURATION_SEC, max: MAX_DURATION_SEC }));
    fc.assert(
      fc.property(duration, text, fc.option(piece, { nil: undefined }), (seconds, topic, tier) => {
        answerOf(() => validateVideoRequest({ duration: seconds, topic, ...(tier !== undefined ? { tier } : {}) }), expectValidRequest);
      }),
      RUNS,
    );
  });

  it('/tier arguments give a known target and tier or a clear bad_input', () => {
    fc.assert(
      fc.property(text, fc.boolean(), (input, hasReply) => {
        answerOf(
          () => parseTierArgs(input, { hasReply }),
          (args) => {
            expect(args.tier === 'auto' || isTier(args.tier)).toBe(true);
            if (args.target.kind === 'user') expect(args.target.userId).toMatch(/^\d+$/);
            if (args.target.kind === 'username') expect(args.target.username).toMatch(/^[A-Za-z0-9_.]{2,64}$/);
          },
        );
      }),
      RUNS,
    );
  });

  it('the CLI video arguments give a command or a clear bad_input (a script path is only ever read, as given)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(piece, fc.constantFrom('--tier', '--lang', '--aspect', '--out', '--json', '--bible', '--script', '-o', '--')), { maxLength: 8 }), async (args) => {
        const read: string[] = [];
        let command;
        try {
          command = await parseVideoArgs(args, (path) => {
            read.push(path);
            return Promise.reject(new Error('no such file'));
          });
        } catch (error: unknown) {
          expectClearRefusal(error);
          return;
        }
        if ('help' in command) return; // --help: usage, nothing to validate
        expectValidRequest(command.request);
        expect(read).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });

  it('a button id never yields a job id unless it is one of ours', () => {
    fc.assert(
      fc.property(text, (input) => {
        const id = jobIdFromCustomId(input);
        if (id !== undefined) expect(input.startsWith('reelforge:cancel:')).toBe(true);
      }),
      RUNS,
    );
  });
});
