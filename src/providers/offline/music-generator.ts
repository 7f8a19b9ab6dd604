/**
 * A music bed synthesised in plain TypeScript, no samples: per mood a key, a tempo, chord
 * progressions and a few simple instruments (detuned pads through a one-pole low-pass, a bass,
 * a pulse or arpeggio, slow swells), a light stereo echo, peak-normalised to about -3 dBFS.
 * The seed picks the progression, the arpeggio and small tempo and key shifts, so the same seed
 * gives the same bed and different videos sound different.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { throwIfCancelled } from '../../core/errors.js';
import type { Mood } from '../../pipeline/model.js';
import type { MusicBed, MusicProvider } from '../../pipeline/ports.js';
import { hashString, seededRandom, type Random } from './seeded-random.js';
import { encodeWav16 } from '../wav.js';

export const MUSIC_SAMPLE_RATE = 44_100;
const SR = MUSIC_SAMPLE_RATE;
/** -3 dBFS. */
const PEAK = 10 ** (-3 / 20);

const MAJOR = [0, 2, 4, 5, 7, 9, 11];
const MINOR = [0, 2, 3, 5, 7, 8, 10];
const PHRYGIAN = [0, 1, 3, 5, 7, 8, 10];
const DORIAN = [0, 2, 3, 5, 7, 9, 10];

type Wave = 'saw' | 'triangle' | 'sine';

interface Score {
  /** MIDI note of the key's tonic, in the pad's octave. */
  tonic: number;
  scale: readonly number[];
  tempo: [number, number];
  /** Scale degrees (0 = tonic), one chord per `beatsPerChord` beats. */
  progressions: ReadonlyArray<readonly number[]>;
  beatsPerChord: number;
  /** Add the seventh to each chord. */
  sevenths: boolean;
  pad: { wave: Wave; cutoff: number; detuneCents: number; level: number };
  bass: { wave: Wave; level: number; every: number | null; cutoff: number };
  /** Plucked notes over the chord; `step` in beats. */
  arp: { wave: Wave; level: number; step: number; octave: number; cutoff: number } | null;
  swell: { level: number } | null;
  /** A soft low thump every `every` beats. */
  kick: { level: number; every: number } | null;
  echo: { time: number; feedback: number; mix: number };
}

const SCORES: Readonly<Record<Mood, Score>> = {
  calm: {
    tonic: 60,
    scale: MAJOR,
    tempo: [66, 78],
    progressions: [
      [0, 4, 5, 3],
      [0, 5, 3, 4],
      [0, 3, 0, 4],
      [5, 3, 0, 4],
    ],
    beatsPerChord: 8,
    sevenths: true,
    pad: { wave: 'triangle', cutoff: 1400, detuneCents: 7, level: 0.16 },
    bass: { wave: 'sine', level: 0.28, every: null, cutoff: 400 },
    arp: { wave: 'sine', level: 0.07, step: 2, octave: 12, cutoff: 4000 },
    swell: null,
    kick: null,
    echo: { time: 0.42, feedback: 0.35, mix: 0.3 },
  },
  epic: {
    tonic: 50,
    scale: MINOR,
    tempo: [84, 96],
    progressions: [
      [0, 5, 2, 6],
      [0, 6, 5, 6],
      [0, 3, 5, 4],
      [0, 5, 3, 4],
    ],
    beatsPerChord: 4,
    sevenths: false,
    pad: { wave: 'saw', cutoff: 1700, detuneCents: 10, level: 0.12 },
    bass: { wave: 'saw', level: 0.22, every: 0.5, cutoff: 420 },
    arp: { wave: 'triangle', level: 0.06, step: 0.5, octave: 12, cutoff: 2500 },
    swell: { level: 0.05 },
    kick: { level: 0.4, every: 2 },
    echo: { time: 0.33, feedback: 0.25, mix: 0.2 },
  },
  dark: {
    tonic: 57,
    scale: PHRYGIAN,
    tempo: [54, 64],
    progressions: [
      [0, 1, 0, 4],
      [0, 5, 1, 0],
      [0, 3, 1, 0],
    ],
    beatsPerChord: 8,
    sevenths: false,
    pad: { wave: 'saw', cutoff: 520, detuneCents: 12, level: 0.18 },
    bass: { wave: 'triangle', level: 0.3, every: null, cutoff: 250 },
    arp: null,
    swell: { level: 0.09 },
    kick: null,
    echo: { time: 0.5, feedback: 0.4, mix: 0.3 },
  },
  upbeat: {
    tonic: 55,
    scale: MAJOR,
    tempo: [112, 124],
    progressions: [
      [0, 5, 3, 4],
      [0, 4, 5, 3],
      [3, 4, 0, 5],
    ],
    beatsPerChord: 4,
    sevenths: false,
    pad: { wave: 'triangle', cutoff: 2200, detuneCents: 6, level: 0.11 },
    bass: { wave: 'triangle', level: 0.22, every: 1, cutoff: 600 },
    arp: { wave: 'triangle', level: 0.11, step: 0.25, octave: 12, cutoff: 3500 },
    swell: null,
    kick: { level: 0.25, every: 1 },
    echo: { time: 0.25, feedback: 0.2, mix: 0.15 },
  },
  mysterious: {
    tonic: 52,
    scale: DORIAN,
    tempo: [60, 70],
    progressions: [
      [0, 5, 3, 6],
      [0, 2, 5, 4],
      [0, 6, 5, 6],
    ],
    beatsPerChord: 8,
    sevenths: true,
    pad: { wave: 'triangle', cutoff: 900, detuneCents: 9, level: 0.15 },
    bass: { wave: 'sine', level: 0.26, every: null, cutoff: 300 },
    arp: { wave: 'sine', level: 0.06, step: 1, octave: 24, cutoff: 5000 },
    swell: { level: 0.08 },
    kick: null,
    echo: { time: 0.55, feedback: 0.45, mix: 0.35 },
  },
};

const ARP_PATTERNS: ReadonlyArray<readonly number[]> = [
  [0, 1, 2, 1],
  [0, 2, 1, 2],
  [0, 1, 2, 3],
  [2, 1, 0, 1],
  [0, 2, 3, 2],
];

interface Envelope {
  attack: number;
  decay: number;
  sustain: number;
  release: number;
}

interface Tone {
  start: number;
  /** Seconds until note-off; the release follows. */
  length: number;
  freq: number;
  wave: Wave;
  cutoff: number;
  env: Envelope;
  level: number;
  /** 0 = left, 1 = right. */
  pan: number;
}

const midiToHz = (note: number): number => 440 * 2 ** ((note - 69) / 12);

/** The envelope as straight segments [time, level], ending at silence after the release. */
function envelopePoints(env: Envelope, off: number): Array<[number, number]> {
  const { attack, decay, sustain, release } = env;
  if (off <= attack) {
    const level = off / attack;
    return [[0, 0], [off, level], [off + release, 0]];
  }
  if (off <= attack + decay) {
    const level = 1 - ((1 - sustain) * (off - attack)) / decay;
    return [[0, 0], [attack, 1], [off, level], [off + release, 0]];
  }
  return [[0, 0], [attack, 1], [attack + decay, sustain], [off, sustain], [off + release, 0]];
}

/**
 * Adds one note to the stereo mix: oscillator → one-pole low-pass → ADSR → pan. The hot loop is
 * written once per wave shape and walks the envelope segment by segment, which keeps a 60 s bed
 * to a few tens of millions of cheap steps.
 */
function addTone(left: Float32Array, right: Float32Array, tone: Tone): void {
  const origin = Math.round(tone.start * SR);
  const inc = tone.freq / SR;
  const alpha = 1 - Math.exp((-2 * Math.PI * tone.cutoff) / SR);
  const gainL = tone.level * Math.cos((tone.pan * Math.PI) / 2);
  const gainR = tone.level * Math.sin((tone.pan * Math.PI) / 2);
  const wave = tone.wave === 'saw' ? 0 : tone.wave === 'triangle' ? 1 : 2;
  let phase = (tone.freq * 0.618) % 1; // a pitch-dependent start keeps voices from clicking in phase
  let low = 0;
  const points = envelopePoints(tone.env, tone.length);
  for (let p = 1; p < points.length; p++) {
    const [t0, l0] = points[p - 1] as [number, number];
    const [t1, l1] = points[p] as [number, number];
    const from = Math.max(0, origin + Math.round(t0 * SR));
    const to = Math.min(left.length, origin + Math.round(t1 * SR));
    if (to <= from) continue;
    const step = (l1 - l0) / Math.max(1, Math.round((t1 - t0) * SR));
    let env = l0 + step * (from - (origin + Math.round(t0 * SR)));
    for (let i = from; i < to; i++) {
      phase += inc;
      if (phase >= 1) phase -= 1;
      const raw = wave === 0 ? 2 * phase - 1 : wave === 1 ? 4 * Math.abs(phase - 0.5) - 1 : Math.sin(6.283185307179586 * phase);
      low += alpha * (raw - low);
      const v = low * env;
      left[i] = (left[i] as number) + v * gainL;
      right[i] = (right[i] as number) + v * gainR;
      env += step;
    }
  }
}

let kickSamples: Float32Array | undefined;

/** A soft kick: a sine falling from ~110 Hz to ~45 Hz with a fast decay, computed once. */
function kick(): Float32Array {
  if (!kickSamples) {
    kickSamples = new Float32Array(Math.round(0.3 * SR));
    let phase = 0;
    for (let i = 0; i < kickSamples.length; i++) {
      const t = i / SR;
      phase += (45 + 65 * Math.exp(-t * 30)) / SR;
      kickSamples[i] = Math.sin(2 * Math.PI * phase) * Math.exp(-t * 14);
    }
  }
  return kickSamples;
}

function addKick(left: Float32Array, right: Float32Array, start: number, level: number): void {
  const samples = kick();
  const first = Math.round(start * SR);
  const last = Math.min(left.length, first + samples.length);
  for (let i = first; i < last; i++) {
    const v = (samples[i - first] as number) * level;
    left[i] = (left[i] as number) + v;
    right[i] = (right[i] as number) + v;
  }
}

/** Chord tones folded into one octave above `low`, so chord changes move by small steps. */
function chordNotes(score: Score, degree: number, tonic: number, low: number): number[] {
  const count = score.sevenths ? 4 : 3;
  const notes: number[] = [];
  for (let k = 0; k < count; k++) {
    const step = degree + k * 2;
    let note = tonic + (score.scale[step % 7] as number) + 12 * Math.floor(step / 7);
    while (note < low) note += 12;
    while (note >= low + 12) note -= 12;
    notes.push(note);
  }
  return notes.sort((a, b) => a - b);
}

function rootOf(score: Score, degree: number, tonic: number): number {
  return tonic + (score.scale[degree % 7] as number);
}

export interface MusicBedOptions {
  mood: Mood;
  durationSec: number;
  seed: string;
}

/** Renders the bed as 44.1 kHz 16-bit stereo WAV, `durationSec` + 1 s long. */
export function renderMusicBed(options: MusicBedOptions): Buffer {
  const score = SCORES[options.mood];
  const r: Random = seededRandom(`${options.mood}|${options.seed}`);
  const tempo = Math.round(r.range(score.tempo[0], score.tempo[1]));
  const tonic = score.tonic + r.int(5) - 2;
  const progression = r.pick(score.progressions);
  const pattern = r.pick(ARP_PATTERNS);
  const beat = 60 / tempo;
  const chordSec = beat * score.beatsPerChord;
  const totalSec = Math.max(1, options.durationSec) + 1;
  const frames = Math.ceil(totalSec * SR);
  const left = new Float32Array(frames);
  const right = new Float32Array(frames);

  const chords = Math.ceil(totalSec / chordSec);
  for (let c = 0; c < chords; c++) {
    const start = c * chordSec;
    const degree = progression[c % progression.length] as number;
    const notes = chordNotes(score, degree, tonic, tonic - 3);
    const root = rootOf(score, degree, tonic);

    // Pad: two detuned voices per note, spread left and right.
    const padEnv: Envelope = { attack: Math.min(1.2, chordSec * 0.3), decay: 0.8, sustain: 0.8, release: Math.min(1.6, chordSec * 0.4) };
    for (const note of notes) {
      for (const side of [-1, 1]) {
        addTone(left, right, {
          start,
          length: chordSec,
          freq: midiToHz(note) * 2 ** ((side * score.pad.detuneCents) / 1200),
          wave: score.pad.wave,
          cutoff: score.pad.cutoff,
          env: padEnv,
          level: score.pad.level,
          pan: 0.5 + side * 0.3,
        });
      }
    }

    // Bass: a held root, or a pulse on every `every` beats.
    const bassEvery = score.bass.every;
    const bassNotes = bassEvery === null ? [{ at: 0, len: chordSec }] : Array.from({ length: Math.round(score.beatsPerChord / bassEvery) }, (_, k) => ({ at: k * bassEvery * beat, len: bassEvery * beat * 0.7 }));
    for (const { at, len } of bassNotes) {
      addTone(left, right, {
        start: start + at,
        length: len,
        freq: midiToHz(root - 24),
        wave: score.bass.wave,
        cutoff: score.bass.cutoff,
        env: bassEvery === null ? padEnv : { attack: 0.01, decay: 0.15, sustain: 0.6, release: 0.08 },
        level: score.bass.level,
        pan: 0.5,
      });
    }

    if (score.arp) {
      const steps = Math.round(score.beatsPerChord / score.arp.step);
      for (let s = 0; s < steps; s++) {
        const index = pattern[s % pattern.length] as number;
        const note = (notes[index % notes.length] as number) + score.arp.octave + (index >= notes.length ? 12 : 0);
        addTone(left, right, {
          start: start + s * score.arp.step * beat,
          length: score.arp.step * beat * 0.5,
          freq: midiToHz(note),
          wave: score.arp.wave,
          cutoff: score.arp.cutoff,
          env: { attack: 0.005, decay: 0.2, sustain: 0.25, release: 0.25 },
          level: score.arp.level * (s % 4 === 0 ? 1 : 0.75),
          pan: s % 2 === 0 ? 0.3 : 0.7,
        });
      }
    }

    if (score.swell && c % 2 === 0) {
      // Slow swells over two chords: the fifth above, high and quiet.
      addTone(left, right, {
        start,
        length: chordSec * 1.4,
        freq: midiToHz((notes[notes.length - 1] as number) + 12),
        wave: 'triangle',
        cutoff: 1500,
        env: { attack: chordSec * 0.9, decay: chordSec * 0.3, sustain: 0.5, release: chordSec * 0.6 },
        level: score.swell.level,
        pan: r.range(0.2, 0.8),
      });
    }

    if (score.kick) {
      for (let b = 0; b < score.beatsPerChord; b += score.kick.every) addKick(left, right, start + b * beat, score.kick.level);
    }
  }

  addEcho(left, right, score.echo);
  return finish(left, right);
}

/** A ping-pong echo: each channel feeds the other after `time` seconds. */
function addEcho(left: Float32Array, right: Float32Array, echo: Score['echo']): void {
  const delay = Math.round(echo.time * SR);
  const wetL = new Float32Array(left.length);
  const wetR = new Float32Array(right.length);
  for (let i = delay; i < left.length; i++) {
    wetL[i] = ((right[i - delay] as number) + (wetR[i - delay] as number)) * echo.feedback;
    wetR[i] = ((left[i - delay] as number) + (wetL[i - delay] as number)) * echo.feedback;
  }
  for (let i = 0; i < left.length; i++) {
    left[i] = (left[i] as number) + (wetL[i] as number) * echo.mix * 2;
    right[i] = (right[i] as number) + (wetR[i] as number) * echo.mix * 2;
  }
}

/** Fades, peak normalisation to -3 dBFS and 16-bit interleaving. */
function finish(left: Float32Array, right: Float32Array): Buffer {
  const frames = left.length;
  const fadeIn = Math.min(frames, Math.round(0.8 * SR));
  const fadeOut = Math.min(frames, Math.round(2 * SR));
  let peak = 0;
  for (let i = 0; i < frames; i++) {
    let gain = 1;
    if (i < fadeIn) gain = i / fadeIn;
    const fromEnd = frames - 1 - i;
    if (fromEnd < fadeOut) gain *= fromEnd / fadeOut;
    const l = (left[i] as number) * gain;
    const r = (right[i] as number) * gain;
    left[i] = l;
    right[i] = r;
    const absL = l < 0 ? -l : l;
    const absR = r < 0 ? -r : r;
    if (absL > peak) peak = absL;
    if (absR > peak) peak = absR;
  }
  const scale = peak > 0 ? (PEAK * 32767) / peak : 0;
  const samples = new Int16Array(frames * 2);
  for (let i = 0; i < frames; i++) {
    samples[2 * i] = Math.round((left[i] as number) * scale);
    samples[2 * i + 1] = Math.round((right[i] as number) * scale);
  }
  return encodeWav16(samples, SR, 2);
}

/** The MusicProvider that always generates: the offline default and the library's fallback. */
export class MusicGenerator implements MusicProvider {
  async bed(request: { mood: Mood; durationSec: number; seed: string; dir: string }, signal?: AbortSignal): Promise<MusicBed> {
    throwIfCancelled(signal);
    const wav = renderMusicBed(request);
    throwIfCancelled(signal);
    await mkdir(request.dir, { recursive: true });
    const name = `music-${request.mood}-${Math.ceil(request.durationSec)}s-${hashString(request.seed).toString(16)}.wav`;
    const path = join(request.dir, name);
    await writeFile(path, wav);
    return { path, source: 'generated', title: `Generated ${request.mood} music`, license: 'generated by reelforge, no third-party rights' };
  }
}
