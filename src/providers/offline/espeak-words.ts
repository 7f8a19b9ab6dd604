/**
 * Word timings for espeak-ng speech, measured with the espeak-ng program alone (it stays a separate
 * process: espeak-ng is GPL-3.0). The CLI reports no word events, so each sentence is spoken a
 * second time with a long pause between words (`-g`): there every word is a run of sound between
 * clear silences, and its length is measured. The real sentence is then laid out word by word with
 * those lengths, clause by clause between the pauses it really has (after commas), scaled to the
 * span of its sound. Against espeak-ng's own word events this is ~30 ms median, ~90 ms p90 at word
 * starts (`npm run bench -- --only captions`).
 */
import type { WordTiming } from '../../pipeline/ports.js';
import { parseWav } from '../wav.js';

/** Pause asked between words in the measuring pass (units of 10 ms at the default rate). */
export const MEASURE_WORD_GAP = '40';
const FRAME_SEC = 0.005;
/** Peak amplitude (16-bit) under which a frame counts as silence; espeak's output peaks near 10,000+. */
const SILENCE_PEAK = 300;
/** A real clause pause in the spoken sentence (espeak pauses ~150+ ms at a comma). */
const CLAUSE_PAUSE_SEC = 0.1;

export interface SoundRun {
  startSec: number;
  endSec: number;
}

/** Mono 16-bit samples of a PCM WAV (the first channel when there are more). */
export function wavSamples(wav: Buffer): { samples: Int16Array; sampleRate: number } {
  const info = parseWav(wav);
  const { format } = info;
  if (format.audioFormat !== 1 || format.bitsPerSample !== 16) throw new Error('expected 16-bit PCM');
  const frames = info.dataLength / format.blockAlign;
  const samples = new Int16Array(frames);
  for (let i = 0; i < frames; i++) samples[i] = wav.readInt16LE(info.dataOffset + i * format.blockAlign);
  return { samples, sampleRate: format.sampleRate };
}

/** Runs of sound separated by silences of at least `minGapSec` (5 ms frames, peak threshold). */
export function soundRuns(samples: Int16Array, sampleRate: number, minGapSec: number): SoundRun[] {
  const hop = Math.max(1, Math.round(sampleRate * FRAME_SEC));
  const minGapFrames = Math.max(1, Math.round(minGapSec / FRAME_SEC));
  const runs: Array<[number, number]> = [];
  let start = -1;
  let last = -Infinity;
  for (let frame = 0; frame * hop < samples.length; frame++) {
    let peak = 0;
    const end = Math.min(samples.length, (frame + 1) * hop);
    for (let i = frame * hop; i < end; i++) {
      const v = Math.abs(samples[i] ?? 0);
      if (v > peak) peak = v;
    }
    if (peak <= SILENCE_PEAK) continue;
    if (start < 0) start = frame;
    else if (frame - last > minGapFrames) {
      runs.push([start, last + 1]);
      start = frame;
    }
    last = frame;
  }
  if (start >= 0) runs.push([start, last + 1]);
  const hopSec = hop / sampleRate;
  return runs.map(([a, b]) => ({ startSec: a * hopSec, endSec: b * hopSec }));
}

/** Joins the runs across their smallest gaps until at most `count` remain. */
export function mergeToCount(runs: readonly SoundRun[], count: number): SoundRun[] {
  const out = runs.map((r) => ({ ...r }));
  while (out.length > Math.max(1, count)) {
    let best = 0;
    let bestGap = Infinity;
    for (let i = 0; i + 1 < out.length; i++) {
      const gap = out[i + 1]!.startSec - out[i]!.endSec;
      if (gap < bestGap) {
        bestGap = gap;
        best = i;
      }
    }
    out.splice(best, 2, { startSec: out[best]!.startSec, endSec: out[best + 1]!.endSec });
  }
  return out;
}

export interface WordLayoutInput {
  /** The sentence's words as written (whitespace-separated tokens). */
  tokens: readonly string[];
  /** espeak's phonemes (`-x`) for each token read alone; '' for punctuation alone. */
  tokenPhonemes: readonly string[];
  /** espeak's phonemes for the whole sentence: one group per spoken word, as the measuring pass separates them. */
  sentencePhonemes: readonly string[];
  /** Sound runs of the measuring pass (words apart), in seconds. */
  measured: readonly SoundRun[];
  /** The real sentence's samples. */
  samples: Int16Array;
  sampleRate: number;
}

/** Rough phoneme count of an espeak `-x` string (stress and length marks dropped). */
export function phonemeWeight(phonemes: string): number {
  return phonemes.replace(/[^A-Za-z0-9@&]/g, '').length;
}

/**
 * Which spoken groups belong to which tokens. espeak may join words ("in the" is one group) or split
 * one token into several ("1453"); group and token boundaries are matched by their position in the
 * phoneme string. Returns units of consecutive tokens and the groups they share.
 */
export function matchGroups(tokenPhonemes: readonly string[], sentenceGroups: readonly string[]): Array<{ from: number; to: number; groups: [number, number] }> {
  const tokenWeights = tokenPhonemes.map(phonemeWeight);
  const groupWeights = sentenceGroups.map(phonemeWeight);
  const tokenTotal = tokenWeights.reduce((a, b) => a + b, 0);
  const groupTotal = groupWeights.reduce((a, b) => a + b, 0);
  if (tokenTotal === 0 || groupTotal === 0) return [];
  // Boundary positions in [0, 1].
  const tokenBounds: number[] = [];
  let acc = 0;
  for (let t = 0; t < tokenWeights.length - 1; t++) tokenBounds.push((acc += tokenWeights[t]!) / tokenTotal);
  const cuts: Array<[number, number]> = []; // [token boundary index, group boundary index]
  acc = 0;
  for (let g = 0; g < groupWeights.length - 1; g++) {
    const at = (acc += groupWeights[g]!) / groupTotal;
    let best = -1;
    let bestDistance = Infinity;
    tokenBounds.forEach((b, t) => {
      const distance = Math.abs(b - at);
      if (distance < bestDistance) {
        bestDistance = distance;
        best = t;
      }
    });
    const previous = cuts.at(-1);
    // A group boundary that lands on a token boundary already taken lies inside a token.
    if (best >= 0 && (!previous || best > previous[0])) cuts.push([best, g]);
  }
  const units: Array<{ from: number; to: number; groups: [number, number] }> = [];
  let tokenFrom = 0;
  let groupFrom = 0;
  for (const [t, g] of cuts) {
    units.push({ from: tokenFrom, to: t + 1, groups: [groupFrom, g + 1] });
    tokenFrom = t + 1;
    groupFrom = g + 1;
  }
  units.push({ from: tokenFrom, to: tokenPhonemes.length, groups: [groupFrom, sentenceGroups.length] });
  return units;
}

/**
 * Word timings inside one spoken sentence (seconds from the start of its clip), or undefined when
 * the measuring pass does not match the words (the caller then falls back to estimated timing).
 */
export function layoutWords(input: WordLayoutInput): WordTiming[] | undefined {
  const { tokens } = input;
  const groupCount = input.sentencePhonemes.length;
  if (tokens.length === 0 || groupCount === 0 || input.tokenPhonemes.length !== tokens.length) return undefined;
  const runs = mergeToCount(input.measured, groupCount);
  if (runs.length !== groupCount) return undefined;
  const units = matchGroups(input.tokenPhonemes, input.sentencePhonemes);
  if (units.length === 0) return undefined;

  // Each token's spoken length: its groups' sound (the inserted pauses left out), shared by phoneme
  // weight when several tokens make one group.
  const lengths = new Array<number>(tokens.length).fill(0);
  for (const unit of units) {
    let sound = 0;
    for (let g = unit.groups[0]; g < unit.groups[1]; g++) sound += runs[g]!.endSec - runs[g]!.startSec;
    const weights = input.tokenPhonemes.slice(unit.from, unit.to).map(phonemeWeight);
    const weightSum = weights.reduce((a, b) => a + b, 0);
    for (let t = unit.from; t < unit.to; t++) {
      const w = weights[t - unit.from] ?? 0;
      lengths[t] = weightSum > 0 ? (sound * w) / weightSum : sound / (unit.to - unit.from);
    }
  }

  // The real sentence: its sound span, and the clause pauses inside it.
  const real = soundRuns(input.samples, input.sampleRate, CLAUSE_PAUSE_SEC);
  if (real.length === 0) return undefined;
  const clauseEnds = tokens.flatMap((t, i) => (i < tokens.length - 1 && /[,;:—–.!?…)]["'»”]?$/u.test(t) ? [i] : []));
  // Clause pieces line up with the real pauses only when their numbers agree; otherwise one piece.
  const pieces: Array<{ from: number; to: number; span: SoundRun }> = [];
  if (clauseEnds.length > 0 && real.length === clauseEnds.length + 1) {
    let from = 0;
    [...clauseEnds, tokens.length - 1].forEach((end, k) => {
      pieces.push({ from, to: end + 1, span: real[k]! });
      from = end + 1;
    });
  } else {
    pieces.push({ from: 0, to: tokens.length, span: { startSec: real[0]!.startSec, endSec: real.at(-1)!.endSec } });
  }

  const words: WordTiming[] = [];
  for (const piece of pieces) {
    const total = lengths.slice(piece.from, piece.to).reduce((a, b) => a + b, 0);
    const scale = total > 0 ? (piece.span.endSec - piece.span.startSec) / total : 0;
    let t = piece.span.startSec;
    for (let i = piece.from; i < piece.to; i++) {
      const length = (lengths[i] ?? 0) * scale;
      words.push({ text: tokens[i]!, startSec: round3(t), endSec: round3(t + length) });
      t += length;
    }
  }
  return words;
}

/** `espeak-ng -q -x` output over one token per line, one phoneme string per token. */
export function parseTokenPhonemes(phonemeOutput: string, tokenCount: number): string[] | undefined {
  const lines = phonemeOutput.replace(/\r/g, '').split('\n');
  // espeak ends its output with a newline; anything else than one line per token is a mismatch.
  if (lines.at(-1) === '') lines.pop();
  if (lines.length !== tokenCount) return undefined;
  return lines.map((line) => line.trim());
}

/** `espeak-ng -q -x` output for a whole sentence (one line per clause): its spoken-word groups. */
export function parseSentencePhonemes(phonemeOutput: string): string[] {
  return phonemeOutput.split(/\s+/).filter(Boolean);
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
