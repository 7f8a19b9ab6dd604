import { describe, expect, it } from 'vitest';
import { spokenWords } from '../../../src/pipeline/narration.js';
import { targetSegmentCount } from '../../../src/pipeline/segmenting.js';
import { OfflineScriptWriter, allocateSections, extractKeywords, moodForTopic } from '../../../src/providers/offline/script-writer.js';
import { ENGLISH, RUSSIAN } from '../../../src/providers/offline/outline-templates.js';
import { collect, scriptInput, scriptWriterContract } from '../../contracts/script-writer.js';
import type { ScriptEvent } from '../../../src/pipeline/ports.js';
import type { ScriptMeta, Segment } from '../../../src/pipeline/model.js';

scriptWriterContract('offline', () => Promise.resolve({ writer: new OfflineScriptWriter() }), { wordTolerance: 0.15, segmentTolerance: 0 });

const writer = new OfflineScriptWriter();

async function write(overrides: Parameters<typeof scriptInput>[0] = {}): Promise<{ meta: ScriptMeta; segments: Segment[]; events: ScriptEvent[] }> {
  const events = await collect(writer, scriptInput(overrides));
  const meta = events.find((e): e is Extract<ScriptEvent, { type: 'meta' }> => e.type === 'meta')?.meta as ScriptMeta;
  const segments = events.flatMap((e) => (e.type === 'segment' ? [e.segment] : []));
  return { meta, segments, events };
}

function sentencesIn(text: string): number {
  return text.split(/(?<=[.!?…])\s+/u).filter(Boolean).length;
}

describe('OfflineScriptWriter', () => {
  it('says plainly that it is a draft made without a language model, and invents no facts', async () => {
    const { meta, segments } = await write({ durationSec: 60, targetSegments: 12 });
    expect(meta.draft).toBe(true);
    expect(segments[0]?.narration).toMatch(/^This is a draft outline about the fall of Constantinople, made offline without a language model\./);
    // A short video has no room for that sentence: a shorter one says the same.
    const short = await write({ durationSec: 10, targetSegments: 2 });
    expect(short.segments[0]?.narration).toMatch(/^An offline draft outline about the fall of Constantinople\./);
    // An outline of what to research, not claims: no years or numbers appear that the topic did not bring.
    expect(segments.map((s) => s.narration).join(' ')).not.toMatch(/\d/);
  });

  it('follows an outline: intro first, closing last, the sections in between in order', async () => {
    const { segments } = await write({ durationSec: 60, targetSegments: 12 });
    const text = segments.map((s) => s.narration);
    expect(text[0]).toMatch(/draft outline/);
    expect(text.at(-1)).toMatch(/^To close/);
    const order = ['the setting', 'the origins', 'key moments', 'turning point', 'the people', 'the legacy', 'questions to research'].map((marker) =>
      text.findIndex((t) => t.includes(marker)),
    );
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it.each([10, 15, 30, 45, 60, 90, 120, 180])('sizes %i s to 2.5 spoken words a second (long words count for more; within 15 percent) in the target number of segments', async (durationSec) => {
    const targetSegments = targetSegmentCount(durationSec);
    const { segments } = await write({ durationSec, targetSegments });
    expect(segments).toHaveLength(targetSegments);
    const words = segments.map((s) => spokenWords(s.narration, 'en'));
    const total = words.reduce((a, b) => a + b, 0);
    expect(Math.abs(total - durationSec * 2.5) / (durationSec * 2.5)).toBeLessThanOrEqual(0.15);
    // Roughly equal spoken lengths: no segment is under half or over double the average.
    const average = total / segments.length;
    for (const w of words) {
      expect(w).toBeGreaterThanOrEqual(average * 0.5);
      expect(w).toBeLessThanOrEqual(average * 2);
    }
    for (const segment of segments) {
      expect(sentencesIn(segment.narration)).toBeGreaterThanOrEqual(1);
      expect(sentencesIn(segment.narration)).toBeLessThanOrEqual(3);
      expect(segment.narration).toMatch(/[.!?]$/);
    }
  });

  it('writes Russian for lang ru, and English for languages it has no template for', async () => {
    const ru = await write({ topic: 'Падение Константинополя', lang: 'ru', durationSec: 60, targetSegments: 12 });
    expect(ru.meta.lang).toBe('ru');
    expect(ru.segments[0]?.narration).toMatch(/^Это черновой план ролика на тему «Падение Константинополя»/);
    expect(ru.segments.map((s) => s.narration).join(' ')).not.toMatch(/[a-z]{3}/i);
    const de = await write({ topic: 'Der Fall von Konstantinopel', lang: 'de', durationSec: 60, targetSegments: 12 });
    expect(de.meta.lang).toBe('en');
    expect(de.segments[0]?.narration).toMatch(/^This is a draft outline about Der Fall von Konstantinopel/);
  });

  it('keeps a long topic from eating the spoken length', async () => {
    const topic = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    const { segments } = await write({ topic, durationSec: 20, targetSegments: 4 });
    const total = segments.reduce((sum, s) => sum + spokenWords(s.narration, 'en'), 0);
    expect(Math.abs(total - 50) / 50).toBeLessThanOrEqual(0.15);
  });

  it('gives each segment 2-4 title words from its own text, without stop words, Cyrillic included', async () => {
    for (const { segments } of [await write({ durationSec: 60, targetSegments: 12 }), await write({ topic: 'Падение Константинополя', lang: 'ru', durationSec: 60, targetSegments: 12 })]) {
      for (const segment of segments) {
        const words = (segment.keywords ?? '').split(' ');
        expect(words.length).toBeGreaterThanOrEqual(2);
        expect(words.length).toBeLessThanOrEqual(4);
        for (const word of words) {
          expect(segment.narration.toLowerCase()).toContain(word.toLowerCase());
          expect([...ENGLISH.stopWords, ...RUSSIAN.stopWords]).not.toContain(word.toLowerCase());
        }
      }
    }
    expect(extractKeywords('Константинополь пал в мае, и мир изменился.', RUSSIAN, 'x')).toBe('Константинополь пал изменился');
    expect(extractKeywords('In 1453 the city of Constantinople fell to Mehmed.', ENGLISH, 'x')).toBe('1453 Constantinople Mehmed');
  });

  it('describes each picture from the segment idea and the topic, and names no people', async () => {
    const { segments } = await write({ durationSec: 60, targetSegments: 12 });
    for (const segment of segments) {
      expect(segment.imagePrompt).toContain('the fall of Constantinople');
      expect(segment.imagePrompt).toContain(segment.keywords);
      expect(segment.people).toEqual([]);
    }
    expect(new Set(segments.map((s) => s.imagePrompt)).size).toBe(segments.length);
  });

  it("keeps the user's narration exactly and only adds pictures and key words", async () => {
    const narration = ['Мы начинаем с берега Босфора.', 'Весной 1453 года к городу подошла армия султана.'];
    const { meta, segments } = await write({ topic: 'Константинополь', lang: 'ru', narration, targetSegments: 5 });
    expect(meta.lang).toBe('ru');
    expect(segments.map((s) => s.narration)).toEqual(narration);
    expect(segments[1]?.keywords).toContain('1453');
    expect(segments[1]?.imagePrompt).toContain('армия султана');
  });

  it('picks the mood from the topic', () => {
    expect(moodForTopic('The Battle of Hastings')).toBe('epic');
    expect(moodForTopic('Осада Ленинграда')).toBe('epic');
    expect(moodForTopic('The fall of Rome')).toBe('dark');
    expect(moodForTopic('Black holes and the mysteries of space')).toBe('mysterious');
    expect(moodForTopic('Тайны космоса')).toBe('mysterious');
    expect(moodForTopic('Cooking the perfect risotto')).toBe('upbeat');
    expect(moodForTopic('Travel tips for Japan')).toBe('upbeat');
    expect(moodForTopic('How to start a garden')).toBe('calm');
    expect(moodForTopic('The history of tea')).toBe('calm');
  });

  it('capitalises the topic as the title and is deterministic', async () => {
    const first = await write({ topic: 'the history of tea', durationSec: 45, targetSegments: 9 });
    const second = await write({ topic: 'the history of tea', durationSec: 45, targetSegments: 9 });
    expect(first.meta.title).toBe('The history of tea');
    expect(second.events).toEqual(first.events);
  });

  it('reports zero LLM usage', async () => {
    const { events } = await write();
    expect(events.at(-1)).toEqual({ type: 'usage', usage: { calls: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0 } });
  });

  it('spreads long videos over every section, weighting key moments most', () => {
    const sections = allocateSections(36);
    expect(sections).toHaveLength(36);
    expect(sections[0]).toBe('intro');
    expect(sections.at(-1)).toBe('closing');
    const count = (key: string): number => sections.filter((s) => s === key).length;
    expect(count('moments')).toBeGreaterThan(count('what'));
    expect(allocateSections(2)).toEqual(['intro', 'closing']);
    expect(allocateSections(1)).toEqual(['intro']);
  });
});
