/**
 * Narration sized for the voice and the asked length, and voices fitted to the timeline: the plan,
 * the caps on what a writer sends, the bounded speed change, and the pauses that bring a video back
 * on time.
 */
import { describe, expect, it } from 'vitest';
import { capNarration, plannedEndSec, planNarration, segmentWordLimit, spokenWords, tempoToFit } from '../../src/pipeline/narration.js';
import { countWords } from '../../src/pipeline/segmenting.js';
import { fittedTiming, GAP_SEC, LEAD_IN_SEC, MAX_GAP_SEC, maxTailSec, MIN_GAP_SEC, MIN_TAIL_SEC, TAIL_SEC, voiceRoom } from '../../src/pipeline/timeline.js';

describe('planNarration', () => {
  it('asks for the words the voice speaks in the asked length less the pauses', () => {
    const plan = planNarration(30, 6, 2.8);
    const pauses = LEAD_IN_SEC + TAIL_SEC + GAP_SEC * 5;
    expect(plan.voiceSec).toBeCloseTo(30 - pauses, 6);
    expect(plan.targetWords).toBe(Math.round((30 - pauses) * 2.8));
    expect(plan.maxTotalWords).toBe(Math.ceil(plan.targetWords * 1.2));
    // A slower voice (Russian) gets fewer words for the same length.
    expect(planNarration(30, 6, 2.17).targetWords).toBeLessThan(plan.targetWords);
  });
});

describe('capNarration', () => {
  it('keeps whole sentences while they fit, and cuts a first sentence that is itself too long at a word', () => {
    expect(capNarration('One two three. Four five six. Seven eight.', 7)).toBe('One two three. Four five six.');
    expect(capNarration('One two three four five six seven, eight nine.', 5)).toBe('One two three four five…');
    expect(capNarration('Short.', 0)).toBe('');
    expect(capNarration('Fits as it is.', 10)).toBe('Fits as it is.');
  });
});

describe('segmentWordLimit', () => {
  it('trims a writer running long as it goes, so the last segment still has its words', () => {
    const plan = planNarration(60, 12, 2.5);
    const share = plan.targetWords / 12;
    let words = 0;
    const kept: number[] = [];
    for (let i = 0; i < 12; i++) {
      const limit = segmentWordLimit(plan, 12, i, words);
      const given = Math.round(share * 1.4);
      kept.push(Math.min(given, limit));
      words += Math.min(given, limit);
    }
    expect(words).toBeLessThanOrEqual(Math.ceil(plan.targetWords * 1.1) + 1);
    expect(kept.at(-1)).toBeGreaterThanOrEqual(Math.ceil(share * 0.5));
    // A writer on its line is not trimmed at all.
    expect(segmentWordLimit(plan, 12, 3, Math.round(share * 3))).toBeGreaterThanOrEqual(Math.round(share));
  });
});

describe('spokenWords', () => {
  it('counts long words for more, by syllables, in English and Russian', () => {
    expect(spokenWords('The cat sat on the mat.', 'en')).toBeCloseTo(countWords('The cat sat on the mat.') * 0.7, 6);
    expect(spokenWords('Constantinople, extraordinary civilisation', 'en')).toBeGreaterThan(5);
    expect(spokenWords('Падение Константинополя', 'ru')).toBeCloseTo(10 / 2.5, 6);
    // A language without a syllable rule counts words.
    expect(spokenWords('Der Fall von Konstantinopel', 'de')).toBe(4);
  });
});

describe('tempoToFit', () => {
  it('changes the speed by at most 10 % either way, and not at all within 3 %', () => {
    expect(tempoToFit(10, 10.2)).toBe(1);
    expect(tempoToFit(10.5, 10)).toBeCloseTo(1.05, 6);
    expect(tempoToFit(20, 10)).toBe(1.1);
    expect(tempoToFit(5, 10)).toBe(0.9);
    expect(tempoToFit(5, 0)).toBe(1.1);
  });
});

describe('fittedTiming', () => {
  const fps = 30;

  it('ends a segment on its target when the pause can take up the difference', () => {
    const place = { first: false, last: false, startSec: 10, targetEndSec: 15 };
    const timing = fittedTiming(4.2, fps, place, 30);
    expect(10 + timing.durationSec).toBeCloseTo(15, 1);
    expect(timing.frames).toBe(Math.round(timing.durationSec * fps));
  });

  it('keeps the pause within its bounds when the voice runs long or short', () => {
    const long = fittedTiming(6, fps, { first: false, last: false, startSec: 0, targetEndSec: 5 }, 30);
    expect(long.durationSec).toBeCloseTo(6 + MIN_GAP_SEC, 1);
    const short = fittedTiming(1, fps, { first: false, last: false, startSec: 0, targetEndSec: 5 }, 30);
    expect(short.durationSec).toBeCloseTo(1 + MAX_GAP_SEC, 1);
  });

  it('holds the last picture until the asked length, within its bounds', () => {
    const last = fittedTiming(4, fps, { first: false, last: true, startSec: 20, targetEndSec: 26 }, 26);
    expect(20 + last.durationSec).toBeCloseTo(26, 1);
    const over = fittedTiming(6, fps, { first: false, last: true, startSec: 20, targetEndSec: 26 }, 26);
    expect(over.durationSec).toBeCloseTo(6 + MIN_TAIL_SEC, 1);
    const under = fittedTiming(1, fps, { first: false, last: true, startSec: 20, targetEndSec: 40 }, 40);
    expect(under.durationSec).toBeCloseTo(1 + maxTailSec(40), 1);
  });

  it('starts the first voice after the lead-in, and gives the voice the room the pause leaves', () => {
    const first = fittedTiming(3, fps, { first: true, last: false, startSec: 0, targetEndSec: 5 }, 30);
    expect(first.voiceOffsetSec).toBe(LEAD_IN_SEC);
    expect(voiceRoom({ first: true, last: false, startSec: 0, targetEndSec: 5 })).toBeCloseTo(5 - LEAD_IN_SEC - GAP_SEC, 6);
    expect(voiceRoom({ first: false, last: true, startSec: 25, targetEndSec: 30 })).toBeCloseTo(5 - TAIL_SEC, 6);
  });
});

describe('plannedEndSec', () => {
  it('puts the end of the planned narration, with its pauses, at the asked length less the tail', () => {
    const plan = planNarration(60, 12, 2.5);
    // The last segment ends on the tail, not a gap (and the words are whole: within a word's time).
    expect(Math.abs(plannedEndSec(plan, plan.targetWords, 11) - GAP_SEC + TAIL_SEC - 60)).toBeLessThanOrEqual(0.5 / 2.5);
    // More words than planned do not move the plan: their voice has to fit.
    expect(plannedEndSec(plan, plan.targetWords * 2, 11)).toBeCloseTo(plannedEndSec(plan, plan.targetWords, 11), 6);
  });
});
