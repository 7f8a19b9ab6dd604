/**
 * What every SpeechProvider must do (espeak-ng offline, OpenAI speech, a cache in front of either).
 * Imported by the providers' test files: `speechProviderContract('espeak', async () => ({ provider }))`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReelforgeError } from '../../src/core/errors.js';
import type { SpeechProvider } from '../../src/pipeline/ports.js';
import { parseWav } from '../../src/providers/wav.js';

export interface SpeechProviderHarness {
  provider: SpeechProvider;
  cleanup?: () => Promise<void>;
}

const MAGIC: Record<string, (b: Buffer) => boolean> = {
  wav: (b) => b.toString('ascii', 0, 4) === 'RIFF' && b.toString('ascii', 8, 12) === 'WAVE',
  mp3: (b) => b.toString('ascii', 0, 3) === 'ID3' || (b[0] === 0xff && ((b[1] ?? 0) & 0xe0) === 0xe0),
  opus: (b) => b.toString('ascii', 0, 4) === 'OggS',
  flac: (b) => b.toString('ascii', 0, 4) === 'fLaC',
  aac: (b) => (b[0] === 0xff && ((b[1] ?? 0) & 0xf6) === 0xf0) || b.toString('ascii', 4, 8) === 'ftyp',
};

export const SPEECH_TEXT = 'The city walls had stood for a thousand years. In the spring of 1453, a new army arrived.';

export function speechProviderContract(name: string, make: () => Promise<SpeechProviderHarness>): void {
  describe(`SpeechProvider contract: ${name}`, () => {
    let harness: SpeechProviderHarness;
    beforeAll(async () => {
      harness = await make();
    });
    afterAll(async () => {
      await harness?.cleanup?.();
    });

    it('names its model and says whether it is offline', () => {
      expect(harness.provider.model.length).toBeGreaterThan(0);
      expect(typeof harness.provider.offline).toBe('boolean');
    });

    it('returns audio whose bytes match the extension it reports', async () => {
      const result = await harness.provider.synthesize({ text: SPEECH_TEXT, lang: 'en' });
      expect(['wav', 'mp3', 'opus', 'aac', 'flac']).toContain(result.ext);
      expect(result.data.length).toBeGreaterThan(1000);
      expect(MAGIC[result.ext]?.(result.data)).toBe(true);
    });

    it('reports a duration that fits the audio, when it reports one', async () => {
      const result = await harness.provider.synthesize({ text: SPEECH_TEXT, lang: 'en' });
      if (result.durationSec === undefined) return;
      // 18 words: well over a second and well under half a minute at any sane speaking rate.
      expect(result.durationSec).toBeGreaterThan(2);
      expect(result.durationSec).toBeLessThan(30);
      if (result.ext === 'wav') expect(result.durationSec).toBeCloseTo(parseWav(result.data).durationSec, 3);
    });

    it('gives marks in order, inside the audio, covering the text, when it gives marks', async () => {
      const result = await harness.provider.synthesize({ text: SPEECH_TEXT, lang: 'en' });
      if (!result.marks) return;
      expect(result.marks.length).toBeGreaterThan(0);
      let previousEnd = 0;
      for (const mark of result.marks) {
        expect(mark.text.trim().length).toBeGreaterThan(0);
        expect(mark.startSec).toBeGreaterThanOrEqual(previousEnd - 1e-6);
        expect(mark.endSec).toBeGreaterThan(mark.startSec);
        previousEnd = mark.endSec;
      }
      if (result.durationSec !== undefined) expect(previousEnd).toBeLessThanOrEqual(result.durationSec + 1e-6);
      const spoken = result.marks.map((m) => m.text).join(' ').replace(/\s+/g, ' ');
      expect(spoken).toContain('thousand years');
      expect(spoken).toContain('new army arrived');
    });

    it('speaks Russian', async () => {
      const result = await harness.provider.synthesize({ text: 'Городские стены стояли тысячу лет.', lang: 'ru' });
      expect(result.data.length).toBeGreaterThan(1000);
    });

    it('refuses to start with an aborted signal, as a cancelled ReelforgeError', async () => {
      const controller = new AbortController();
      controller.abort();
      const error: unknown = await harness.provider.synthesize({ text: SPEECH_TEXT, lang: 'en' }, controller.signal).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReelforgeError);
      expect((error as ReelforgeError).code).toBe('cancelled');
    });

    it('stops with a cancelled ReelforgeError when aborted while speaking', async () => {
      const controller = new AbortController();
      const pending = harness.provider.synthesize({ text: SPEECH_TEXT.repeat(6), lang: 'en' }, controller.signal);
      controller.abort();
      const error: unknown = await pending.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReelforgeError);
      expect((error as ReelforgeError).code).toBe('cancelled');
    });
  });
}
