/**
 * What every MusicProvider must do (the generator, the library, anything in front of them).
 * Imported by the providers' test files: `musicProviderContract('generator', async () => ({ provider }))`.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReelforgeError } from '../../src/core/errors.js';
import { MOODS } from '../../src/pipeline/model.js';
import type { MusicProvider } from '../../src/pipeline/ports.js';
import { parseWav } from '../../src/providers/wav.js';

export interface MusicProviderHarness {
  provider: MusicProvider;
  cleanup?: () => Promise<void>;
}

export function musicProviderContract(name: string, make: () => Promise<MusicProviderHarness>): void {
  describe(`MusicProvider contract: ${name}`, () => {
    let harness: MusicProviderHarness;
    let dir: string;
    beforeAll(async () => {
      harness = await make();
      dir = await mkdtemp(join(tmpdir(), 'reelforge-music-contract-'));
    });
    afterAll(async () => {
      await harness?.cleanup?.();
      await rm(dir, { recursive: true, force: true });
    });

    it.each(MOODS)('gives a %s bed as a file, with a title and a source', async (mood) => {
      const bed = await harness.provider.bed({ mood, durationSec: 6, seed: `contract-${mood}`, dir });
      expect((await stat(bed.path)).size).toBeGreaterThan(1000);
      expect(['generated', 'library']).toContain(bed.source);
      expect(bed.title.length).toBeGreaterThan(0);
      if (bed.source === 'library') expect(bed.license?.length ?? 0).toBeGreaterThan(0);
    });

    it('makes a generated bed at least as long as the video', async () => {
      const bed = await harness.provider.bed({ mood: 'calm', durationSec: 7, seed: 'long-enough', dir });
      if (bed.source !== 'generated' || !bed.path.endsWith('.wav')) return;
      expect(parseWav(await readFile(bed.path)).durationSec).toBeGreaterThanOrEqual(7);
    });

    it('refuses to start with an aborted signal, as a cancelled ReelforgeError', async () => {
      const controller = new AbortController();
      controller.abort();
      const error: unknown = await harness.provider.bed({ mood: 'calm', durationSec: 5, seed: 'x', dir }, controller.signal).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReelforgeError);
      expect((error as ReelforgeError).code).toBe('cancelled');
    });
  });
}
