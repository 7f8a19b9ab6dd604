/** The ffmpeg assembler fits a voice's speed (atempo, the pitch kept) and probes the real new length. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { FfmpegAssembler } from '../../../src/providers/ffmpeg/assembler.js';
import { makeTone } from '../../helpers/media.js';
import { voiceRetimeContract } from '../../contracts/voice-retime.js';

describe('FfmpegAssembler.retimeVoice', () => {
  const assembler = new FfmpegAssembler({ renderConcurrency: 1 });
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reelforge-retime-'));
    await makeTone(join(dir, 'voice.wav'), { freq: 220, durationSec: 4 });
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  voiceRetimeContract(() => ({ assembler, voicePath: join(dir, 'voice.wav'), voiceSec: 4, dir }));
});
