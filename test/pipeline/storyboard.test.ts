/**
 * The storyboard file: what a hand edit may break is refused with a message naming the scene and
 * field; a script round-trips through it unchanged; writing one runs the script writer alone.
 */
import { describe, expect, it } from 'vitest';
import { validateVideoRequest } from '../../src/core/request.js';
import { MemoryScriptWriter } from '../../src/providers/memory/index.js';
import {
  applyChanges,
  formatStoryboard,
  parseStoryboard,
  scriptAsWriter,
  scriptStoryboard,
  storyboardScript,
  writeStoryboard,
  type Storyboard,
} from '../../src/pipeline/storyboard.js';
import type { ScriptEvent } from '../../src/pipeline/ports.js';
import { TIER_PROFILES } from '../../src/core/tiers.js';

const valid = (): Storyboard => ({
  version: 1,
  title: 'Tea',
  topic: 'The history of tea',
  language: 'en',
  tier: 'ultra_fast',
  seconds: 12,
  aspect: '9:16',
  mood: 'calm',
  draft: false,
  segments: [
    { narration: 'Tea began in China.', picture: 'A tea bush on a misty hill', people: [] },
    { narration: 'It crossed the world by sea.', picture: 'A clipper ship under full sail', people: [] },
  ],
});

describe('parseStoryboard', () => {
  it.each([
    ['text that is not JSON', '{ "version": 1, ', /^The storyboard is not valid JSON: /],
    ['an empty narration', JSON.stringify({ ...valid(), segments: [valid().segments[0], { narration: ' ', picture: 'x ship' }] }), /segments\[2\]\.narration: the narration must not be empty/],
    ['a missing picture', JSON.stringify({ ...valid(), segments: [{ narration: 'Tea.' }] }), /segments\[1\]\.picture: the picture must be text/],
    ['a misspelt field', JSON.stringify({ ...valid(), segments: [{ narations: 'x', narration: 'Tea.', picture: 'A tea cup' }] }), /segments\[1\]: unknown field "narations"/],
    ['a newer version', JSON.stringify({ ...valid(), version: 2 }), /version: version must be 1/],
    ['an unknown tier', JSON.stringify({ ...valid(), tier: 'max' }), /tier must be one of ultra_fast, balanced, quality/],
    ['a duration out of range', JSON.stringify({ ...valid(), seconds: 999 }), /seconds must be 10 to 180/],
    ['no scenes', JSON.stringify({ ...valid(), segments: [] }), /at least one scene/],
    ['a narration of 5,000 characters', JSON.stringify({ ...valid(), segments: [{ narration: 'a'.repeat(5000), picture: 'A cup' }] }), /longer than 600 characters/],
  ])('refuses %s with a bad_input error that says where', (_label, text, message) => {
    let caught: unknown;
    try {
      parseStoryboard(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'bad_input', message: expect.stringMatching(message) as unknown });
  });

  it('lists several problems at once', () => {
    const text = JSON.stringify({ ...valid(), tier: 'max', segments: [{ narration: '', picture: '' }] });
    expect(() => parseStoryboard(text)).toThrow(/tier.*; segments\[1\]\.narration.*; segments\[1\]\.picture/);
  });

  it('fills what a hand-written file may leave out (aspect, draft, people)', () => {
    const { aspect: _a, draft: _d, ...rest } = valid();
    const parsed = parseStoryboard(JSON.stringify({ ...rest, segments: [{ narration: 'Tea.', picture: 'A tea cup' }] }));
    expect(parsed).toMatchObject({ aspect: '9:16', draft: false, segments: [{ narration: 'Tea.', picture: 'A tea cup', people: [] }] });
  });

  it('round-trips a script: file text, parse, script, storyboard', () => {
    const storyboard = { ...valid(), bible: { style: 'ink wash', characters: [{ name: 'Lu Yu', look: 'an old scholar' }] }, voice: 'nova' };
    const parsed = parseStoryboard(formatStoryboard(storyboard));
    expect(parsed).toEqual(storyboard);
    const script = storyboardScript(parsed);
    expect(script.segments.map((s) => [s.index, s.narration, s.imagePrompt])).toEqual([
      [0, 'Tea began in China.', 'A tea bush on a misty hill'],
      [1, 'It crossed the world by sea.', 'A clipper ship under full sail'],
    ]);
    expect(scriptStoryboard(script, { topic: 'The history of tea', durationSec: 12, tier: 'ultra_fast', lang: 'en', aspect: '9:16' }, 'nova')).toEqual(parsed);
  });
});

describe('scriptAsWriter', () => {
  it('streams the script as written, whatever it is asked, with no usage', async () => {
    const script = storyboardScript(valid());
    const events: ScriptEvent[] = [];
    const input = { topic: 'other', durationSec: 60, lang: 'ru', profile: TIER_PROFILES.quality, wantBible: true, targetSegments: 12 };
    for await (const event of scriptAsWriter(script).write(input)) events.push(event);
    expect(events.map((e) => e.type)).toEqual(['meta', 'segment', 'segment']);
    expect(events[0]).toMatchObject({ meta: { title: 'Tea', lang: 'en' } });
  });
});

describe('writeStoryboard', () => {
  it('runs the script writer once and keeps the request it was written for', async () => {
    const writer = new MemoryScriptWriter();
    const { storyboard } = await writeStoryboard(writer, validateVideoRequest({ duration: 45, topic: 'How honeybees make honey' }));
    expect(storyboard).toMatchObject({ version: 1, topic: 'How honeybees make honey', seconds: 45, tier: 'balanced', aspect: '9:16' });
    expect(storyboard.segments.length).toBeGreaterThan(0);
    // What it wrote is a valid file.
    expect(parseStoryboard(formatStoryboard(storyboard))).toEqual(storyboard);
  });

  it('asks for the words the voice can speak in the asked length and caps a writer that sends far more', async () => {
    const asked: Array<number | undefined> = [];
    const long = Array.from({ length: 80 }, (_, i) => `Word${i}`).join(' ') + '.';
    const writer = {
      offline: false,
      // eslint-disable-next-line @typescript-eslint/require-await -- an async generator: the port streams events
      async *write(input: { targetWords?: number; targetSegments: number }): AsyncIterable<ScriptEvent> {
        asked.push(input.targetWords);
        yield { type: 'meta', meta: { title: 'Long', lang: 'en', mood: 'calm', draft: false } };
        for (let i = 0; i < input.targetSegments; i++) yield { type: 'segment', segment: { index: i, narration: long, imagePrompt: 'A field', people: [] } };
      },
    };
    const { storyboard } = await writeStoryboard(writer, validateVideoRequest({ duration: 20, topic: 'A long story' }), { wordsPerSecond: 2 });
    // 20 s less the pauses, at 2 words a second.
    expect(asked[0]).toBeGreaterThan(25);
    expect(asked[0]).toBeLessThanOrEqual(40);
    const words = storyboard.segments.reduce((n, s) => n + s.narration.split(/\s+/).length, 0);
    expect(words).toBeLessThanOrEqual(Math.ceil((asked[0] ?? 0) * 1.2));
  });
});

describe('applyChanges', () => {
  it('edits a line or a picture by scene number (from 1), re-rolls with the next take, sets the voice, and leaves the input alone', () => {
    const before = valid();
    const after = applyChanges(before, [
      { kind: 'narration', scene: 2, text: 'It sailed to Europe.' },
      { kind: 'reroll', scene: 1 },
      { kind: 'reroll', scene: 1 },
      { kind: 'voice', voice: 'nova' },
    ]);
    expect(after.segments[1]?.narration).toBe('It sailed to Europe.');
    expect(after.segments[0]?.take).toBe(2);
    expect(after.voice).toBe('nova');
    expect(before).toEqual(valid());
    // A new description starts from the first take again.
    expect(applyChanges(after, [{ kind: 'picture', scene: 1, text: 'A teapot' }]).segments[0]).toMatchObject({ picture: 'A teapot' });
    expect(applyChanges(after, [{ kind: 'picture', scene: 1, text: 'A teapot' }]).segments[0]?.take).toBeUndefined();
  });

  it('refuses a scene the storyboard does not have, and an empty line, as bad input', () => {
    expect(() => applyChanges(valid(), [{ kind: 'reroll', scene: 3 }])).toThrow('There is no scene 3: the storyboard has scenes 1 to 2.');
    expect(() => applyChanges(valid(), [{ kind: 'narration', scene: 1, text: '  ' }])).toThrow(/segments\[1\]\.narration: the narration must not be empty/);
  });
});
