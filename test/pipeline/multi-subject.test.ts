import { describe, expect, it } from 'vitest';
import type { Segment } from '../../src/pipeline/model.js';
import { distinctPeople, findMultiSubjectSegments, peopleInPrompt, samePerson } from '../../src/pipeline/multi-subject.js';

const seg = (index: number, imagePrompt: string, people: string[] = []): Segment => ({ index, narration: '', imagePrompt, people });
const flagged = (segments: Segment[], context?: { people: string[] }) =>
  findMultiSubjectSegments(segments, context ? { context: { ...context, avoid: [] } } : {}).map((f) => f.index);

describe('multi-subject detection', () => {
  it('flags a scene whose people list names two people', () => {
    expect(flagged([seg(0, 'Two rulers meet in a tent', ['Mehmed II', 'Constantine XI'])])).toEqual([0]);
  });

  it('does not flag one person named twice, with and without a title', () => {
    const s = seg(0, 'Sultan Mehmed II on horseback; Mehmed raises his sword toward the walls', ['Mehmed II']);
    expect(flagged([s])).toEqual([]);
    expect(distinctPeople(['Mehmed II', 'Sultan Mehmed II', 'Mehmed'])).toEqual(['Sultan Mehmed II']);
  });

  it('finds a second known person named only in the prompt', () => {
    const script = [seg(0, 'Constantine XI on the walls', ['Constantine XI']), seg(1, 'Mehmed II watches Constantine XI from his tent', ['Mehmed II'])];
    expect(flagged(script)).toEqual([1]);
  });

  it('uses the context people as known names', () => {
    expect(flagged([seg(0, 'Giustiniani and the Emperor Constantine on the wall', [])], { people: ['Giovanni Giustiniani', 'Constantine XI'] })).toEqual([0]);
  });

  it('catches "X and Y" pairs of names nobody listed', () => {
    expect(flagged([seg(0, 'Napoleon and Kutuzov shake hands in a snowy field')])).toEqual([0]);
  });

  it('does not take places or capitalised adjectives for people', () => {
    expect(flagged([seg(0, 'Napoleon rides into Moscow at dusk', ['Napoleon'])])).toEqual([]);
    expect(flagged([seg(0, 'Ottoman soldiers and Byzantine defenders clash at the Golden Gate')])).toEqual([]);
  });

  it('handles Cyrillic names, titles and case endings', () => {
    expect(samePerson('Пётр I', 'царь Петра I')).toBe(true);
    expect(samePerson('Пётр I', 'Екатерина I')).toBe(false);
    expect(flagged([seg(0, 'Пётр I и Екатерина на балу в Петергофе')])).toEqual([0]);
    expect(flagged([seg(0, 'Царь Пётр I на верфи, Пётр держит топор', ['Пётр I'])])).toEqual([]);
    expect(flagged([seg(0, 'Пётр I в Петербурге, утро', ['Пётр I'])])).toEqual([]);
    expect(flagged([seg(0, 'Меншиков докладывает царю', ['Александр Меншиков'])], { people: ['Александр Меншиков', 'Пётр I'] })).toEqual([]);
  });

  it('tells two people who share a first name apart when both are listed', () => {
    expect(flagged([seg(0, 'A coronation', ['Peter the Great', 'Peter III'])])).toEqual([0]);
  });

  it('reports the distinct people it found', () => {
    const [flag] = findMultiSubjectSegments([seg(4, 'Mehmed II and Constantine XI face each other', [])], {
      context: { people: ['Mehmed II', 'Constantine XI'], avoid: [] },
    });
    expect(flag).toEqual({ index: 4, people: ['Mehmed II', 'Constantine XI'] });
    expect(peopleInPrompt('Portrait of Mehmed', ['Mehmed II'])).toEqual(['Mehmed II']);
  });
});
