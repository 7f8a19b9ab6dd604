import { describe, expect, it } from 'vitest';
import { EspeakSpeech } from '../../../src/providers/offline/espeak-speech.js';
import { matchGroups, mergeToCount, soundRuns, wavSamples } from '../../../src/providers/offline/espeak-words.js';

/** Tone bursts at the given [start, end] seconds, silence elsewhere. */
function bursts(spans: Array<[number, number]>, sampleRate = 8000, totalSec = 2): Int16Array {
  const samples = new Int16Array(Math.round(totalSec * sampleRate));
  for (const [a, b] of spans) {
    for (let i = Math.round(a * sampleRate); i < Math.round(b * sampleRate); i++) samples[i] = Math.round(8000 * Math.sin(i / 3));
  }
  return samples;
}

describe('espeak word timing helpers', () => {
  it('finds runs of sound between silences and merges the smallest gaps first', () => {
    const samples = bursts([
      [0.1, 0.3],
      [0.32, 0.5],
      [0.9, 1.2],
      [1.6, 1.8],
    ]);
    const runs = soundRuns(samples, 8000, 0.01);
    expect(runs).toHaveLength(4);
    expect(runs[0]!.startSec).toBeCloseTo(0.1, 2);
    const merged = mergeToCount(runs, 3);
    expect(merged.map((r) => [Math.round(r.startSec * 10) / 10, Math.round(r.endSec * 10) / 10])).toEqual([
      [0.1, 0.5],
      [0.9, 1.2],
      [1.6, 1.8],
    ]);
  });

  it('matches espeak groups to tokens when words are joined or one token is several words', () => {
    // "in the kitchen": espeak joins "in the" into one group.
    expect(matchGroups(['In', 'D@2', 'k\'ItS@n'], ['InD@2', 'k\'ItS@n'])).toEqual([
      { from: 0, to: 2, groups: [0, 1] },
      { from: 2, to: 3, groups: [1, 2] },
    ]);
    // "in 1453": one token, four spoken groups.
    expect(matchGroups(['In', "f'o@ti:n f'Ifti Tr'i:"], ['In', "f'o@ti:n", "f'Ifti", "Tr'i:"])).toEqual([
      { from: 0, to: 1, groups: [0, 1] },
      { from: 1, to: 2, groups: [1, 4] },
    ]);
  });
});

describe('EspeakSpeech word timings', () => {
  const speech = new EspeakSpeech();

  it('times every word of the script, in order, inside its sentence', async () => {
    const text = 'Her grandmother kept a secret recipe, written on a yellowed card. In 1453 the walls fell!';
    const result = await speech.synthesize({ text, lang: 'en' });
    const words = result.words ?? [];
    expect(words.map((w) => w.text)).toEqual(text.split(' '));
    const marks = result.marks ?? [];
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      expect(w.endSec).toBeGreaterThanOrEqual(w.startSec);
      if (i > 0) expect(w.startSec).toBeGreaterThanOrEqual(words[i - 1]!.endSec - 1e-6);
      const mark = marks.find((m) => w.startSec >= m.startSec - 1e-6 && w.endSec <= m.endSec + 1e-6);
      expect(mark, `${w.text} lies inside a sentence`).toBeDefined();
    }
    expect(words[words.length - 5]?.text).toBe('In');
    expect(words[words.length - 5]?.startSec).toBeGreaterThanOrEqual(marks[1]!.startSec);
  });

  it('starts the word after a comma where the voice resumes after the pause', async () => {
    const result = await speech.synthesize({ text: 'The city slept, and the harbour was silent.', lang: 'en' });
    const after = result.words?.find((w) => w.text === 'and');
    const { samples, sampleRate } = wavSamples(result.data);
    const runs = soundRuns(samples, sampleRate, 0.1);
    expect(runs.length).toBe(2);
    expect(after?.startSec).toBeCloseTo(runs[1]!.startSec, 2);
  });

  it('times Russian words too', async () => {
    const text = 'Учёные до сих пор спорят, почему динозавры исчезли так внезапно.';
    const result = await speech.synthesize({ text, lang: 'ru' });
    expect(result.words?.map((w) => w.text)).toEqual(text.split(' '));
  });
});
