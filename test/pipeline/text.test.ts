import { describe, expect, it } from 'vitest';
import { buildCues, estimateMarks, splitPhrases } from '../../src/pipeline/captions.js';
import { countWords, splitNarration, splitSentences, targetSegmentCount } from '../../src/pipeline/segmenting.js';
import { motionFor, segmentTiming } from '../../src/pipeline/timeline.js';

describe('splitSentences', () => {
  it('splits at sentence ends and keeps the punctuation', () => {
    expect(splitSentences('Tea came from China. It spread west! Why? Trade…  Then wars.')).toEqual([
      'Tea came from China.',
      'It spread west!',
      'Why?',
      'Trade…',
      'Then wars.',
    ]);
  });

  it('does not split after abbreviations or initials', () => {
    expect(splitSentences('Dr. Smith met J. R. Tolkien in St. Andrews. They talked.')).toEqual([
      'Dr. Smith met J. R. Tolkien in St. Andrews.',
      'They talked.',
    ]);
  });

  it('handles Cyrillic and a missing final stop', () => {
    expect(splitSentences('Чай пришёл из Китая. Потом на Запад')).toEqual(['Чай пришёл из Китая.', 'Потом на Запад']);
  });
});

describe('splitNarration', () => {
  const text = Array.from({ length: 12 }, (_, i) => `Sentence number ${i + 1} has exactly seven words.`).join(' ');

  it('groups sentences into about the target number of balanced segments, word for word', () => {
    const segments = splitNarration(text, 4);
    expect(segments).toHaveLength(4);
    expect(segments.join(' ')).toBe(text);
    for (const s of segments) expect(countWords(s)).toBe(21);
  });

  it('splits an over-long sentence at commas rather than holding one picture too long', () => {
    const long = 'First comes the calm, then the storm arrives over the hills, then the rain, then the flood reaches the town, then the quiet.';
    const segments = splitNarration(long, 3);
    expect(segments.length).toBeGreaterThanOrEqual(2);
    expect(segments.join(' ')).toBe(long);
  });

  it('targets about twelve segments a minute', () => {
    expect(targetSegmentCount(60)).toBe(12);
    expect(targetSegmentCount(10)).toBe(2);
    expect(targetSegmentCount(180)).toBe(36);
  });
});

describe('captions', () => {
  it('splits sentences into short phrases without a lonely last word', () => {
    const phrases = splitPhrases('In 1453 the Ottoman army, led by Mehmed the Second, broke through the walls of the city at dawn.');
    for (const p of phrases) expect(p.length).toBeLessThanOrEqual(42);
    expect(phrases.join(' ')).toBe('In 1453 the Ottoman army, led by Mehmed the Second, broke through the walls of the city at dawn.');
    expect(phrases.at(-1)?.includes(' ')).toBe(true);
  });

  it('spreads phrases over each sentence mark, in order and inside the mark', () => {
    const cues = buildCues(
      [
        { text: 'The walls held for weeks, then the guns arrived from the west.', startSec: 0, endSec: 4 },
        { text: 'The city fell.', startSec: 4.2, endSec: 5.5 },
      ],
      0.3,
    );
    expect(cues.at(0)?.startSec).toBeCloseTo(0.3);
    expect(cues.at(-1)?.endSec).toBeCloseTo(5.8);
    for (let i = 1; i < cues.length; i++) expect(cues[i]!.startSec).toBeGreaterThanOrEqual(cues[i - 1]!.endSec - 1e-9);
    expect(cues.at(-1)?.text).toBe('The city fell.');
  });

  it('estimates sentence marks by length when the voice gave none', () => {
    const marks = estimateMarks('Short one. This second sentence is a good deal longer than the first.', 6);
    expect(marks).toHaveLength(2);
    expect(marks[1]!.endSec).toBeCloseTo(6);
    expect(marks[1]!.endSec - marks[1]!.startSec).toBeGreaterThan(marks[0]!.endSec - marks[0]!.startSec);
  });
});

describe('timeline', () => {
  it('rounds segments to whole frames and pads first, middle and last differently', () => {
    const first = segmentTiming(4.01, 30, { first: true, last: false });
    expect(first.voiceOffsetSec).toBe(0.3);
    expect(first.frames).toBe(Math.ceil((0.3 + 4.01 + 0.35) * 30));
    expect(first.durationSec * 30).toBeCloseTo(first.frames);
    const last = segmentTiming(4.01, 30, { first: false, last: true });
    expect(last.durationSec).toBeGreaterThan(first.durationSec - 0.3 + 0.8);
  });

  it('never moves two consecutive pictures the same way', () => {
    for (let i = 0; i < 12; i++) {
      const a = motionFor(i);
      const b = motionFor(i + 1);
      expect(a).not.toEqual(b);
      expect(Math.sign(a.zoomTo - a.zoomFrom)).not.toBe(Math.sign(b.zoomTo - b.zoomFrom));
    }
  });
});
