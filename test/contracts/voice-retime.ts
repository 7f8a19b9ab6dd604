/**
 * What every VideoAssembler does to fit a voice to the asked length (the ffmpeg one and its
 * in-memory twin): `retimeVoice` writes the clip at the new speed and says its new length.
 * Called inside a describe whose hooks have made a voice clip: `voiceRetimeContract(() => ({ ... }))`.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { VideoAssembler } from '../../src/pipeline/ports.js';

export interface RetimeHarness {
  assembler: VideoAssembler;
  /** A voice clip and its length. */
  voicePath: string;
  voiceSec: number;
  dir: string;
}

export function voiceRetimeContract(get: () => RetimeHarness): void {
  it.each([0.9, 1.1])('contract: retimeVoice() at %s makes the clip that much shorter or longer and says its new length', async (factor) => {
    const { assembler, voicePath, voiceSec, dir } = get();
    const outPath = join(dir, `contract-retimed-${factor}.wav`);
    const durationSec = await assembler.retimeVoice({ path: voicePath, durationSec: voiceSec, factor, outPath });
    expect(durationSec).toBeGreaterThan((voiceSec / factor) * 0.97);
    expect(durationSec).toBeLessThan((voiceSec / factor) * 1.03);
    expect((await stat(outPath)).size).toBeGreaterThan(0);
  });

  it('contract: retimeVoice() stops when cancelled', async () => {
    const { assembler, voicePath, voiceSec, dir } = get();
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(assembler.retimeVoice({ path: voicePath, durationSec: voiceSec, factor: 1.05, outPath: join(dir, 'contract-cancelled.wav') }, controller.signal)).rejects.toBeDefined();
  });
}
