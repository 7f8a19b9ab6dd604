import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOODS } from '../../../src/pipeline/model.js';
import { MUSIC_SAMPLE_RATE, MusicGenerator, renderMusicBed } from '../../../src/providers/offline/music-generator.js';
import { parseWav } from '../../../src/providers/wav.js';
import { musicProviderContract } from '../../contracts/music-provider.js';

musicProviderContract('generator', () => Promise.resolve({ provider: new MusicGenerator() }));

interface Levels {
  peak: number;
  rms: number;
  /** RMS of each second, to find silent stretches. */
  perSecond: number[];
  /** How different left and right are, relative to their level. */
  width: number;
}

function levels(wav: Buffer): Levels {
  const info = parseWav(wav);
  const frames = info.dataLength / info.format.blockAlign;
  let peak = 0;
  let sum = 0;
  let side = 0;
  const perSecond: number[] = [];
  let secondSum = 0;
  for (let i = 0; i < frames; i++) {
    const l = wav.readInt16LE(info.dataOffset + i * 4) / 32768;
    const r = wav.readInt16LE(info.dataOffset + i * 4 + 2) / 32768;
    peak = Math.max(peak, Math.abs(l), Math.abs(r));
    sum += l * l + r * r;
    side += (l - r) * (l - r);
    secondSum += l * l + r * r;
    if ((i + 1) % info.format.sampleRate === 0) {
      perSecond.push(Math.sqrt(secondSum / (2 * info.format.sampleRate)));
      secondSum = 0;
    }
  }
  return { peak, rms: Math.sqrt(sum / (2 * frames)), perSecond, width: Math.sqrt(side / sum) };
}

const dbfs = (x: number): number => 20 * Math.log10(x);

describe('renderMusicBed', () => {
  it.each(MOODS)('makes a %s bed: 44.1 kHz 16-bit stereo, durationSec + 1 s, peak at -3 dBFS, never silent', (mood) => {
    const wav = renderMusicBed({ mood, durationSec: 12, seed: 'video-1' });
    const info = parseWav(wav);
    expect(info.format).toMatchObject({ audioFormat: 1, channels: 2, sampleRate: MUSIC_SAMPLE_RATE, bitsPerSample: 16 });
    expect(info.durationSec).toBeCloseTo(13, 2);
    const { peak, rms, perSecond, width } = levels(wav);
    expect(dbfs(peak)).toBeGreaterThan(-3.2);
    expect(dbfs(peak)).toBeLessThan(-2.8);
    expect(dbfs(rms)).toBeGreaterThan(-30);
    // Music all the way through: after the fade-in no second falls near silence, and there is stereo width.
    for (const level of perSecond.slice(1, -2)) expect(dbfs(level)).toBeGreaterThan(-40);
    expect(width).toBeGreaterThan(0.05);
  });

  it('gives the same bed for the same seed and a different one for another seed', () => {
    const a = renderMusicBed({ mood: 'upbeat', durationSec: 8, seed: 'job-a' });
    expect(renderMusicBed({ mood: 'upbeat', durationSec: 8, seed: 'job-a' }).equals(a)).toBe(true);
    const others = ['job-b', 'job-c', 'job-d'].map((seed) => renderMusicBed({ mood: 'upbeat', durationSec: 8, seed }));
    for (const other of others) expect(other.equals(a)).toBe(false);
  });

  it('pulses for upbeat and epic, and swells slowly for calm, dark and mysterious', () => {
    // How much the level moves from one 50 ms window to the next, relative to the mean level.
    const pulse = (mood: (typeof MOODS)[number]): number => {
      const wav = renderMusicBed({ mood, durationSec: 10, seed: 'pulse' });
      const info = parseWav(wav);
      const window = info.format.sampleRate / 20;
      const envelope: number[] = [];
      let sum = 0;
      for (let i = 0; i < info.dataLength / 4; i++) {
        const v = wav.readInt16LE(info.dataOffset + i * 4) / 32768;
        sum += v * v;
        if ((i + 1) % window === 0) {
          envelope.push(Math.sqrt(sum / window));
          sum = 0;
        }
      }
      const steady = envelope.slice(20, -40); // past the fade-in, before the fade-out
      const mean = steady.reduce((a, b) => a + b, 0) / steady.length;
      let change = 0;
      for (let i = 1; i < steady.length; i++) change += Math.abs((steady[i] as number) - (steady[i - 1] as number));
      return change / (steady.length - 1) / mean;
    };
    const rhythmic = Math.min(pulse('upbeat'), pulse('epic'));
    const smooth = Math.max(pulse('calm'), pulse('dark'), pulse('mysterious'));
    expect(rhythmic).toBeGreaterThan(smooth * 1.5);
  });
});

describe('MusicGenerator', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reelforge-music-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the bed into the job folder and says it was generated', async () => {
    const bed = await new MusicGenerator().bed({ mood: 'epic', durationSec: 5, seed: 'job-42', dir: join(dir, 'nested') });
    expect(bed.path.startsWith(join(dir, 'nested'))).toBe(true);
    expect(bed.source).toBe('generated');
    expect(parseWav(await readFile(bed.path)).durationSec).toBeGreaterThanOrEqual(6);
  });
});
