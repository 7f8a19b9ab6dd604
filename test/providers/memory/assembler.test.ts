/** The in-memory VideoAssembler keeps the same upload contract as the ffmpeg one. */
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import type { FinishedVideo } from '../../../src/pipeline/ports.js';
import { MemoryAssembler } from '../../../src/providers/memory/index.js';
import { videoAssemblerUploadContract } from '../../contracts/video-assembler.js';
import { voiceRetimeContract } from '../../contracts/voice-retime.js';

describe('MemoryAssembler', () => {
  const assembler = new MemoryAssembler();
  let dir: string;
  let video: FinishedVideo;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reelforge-memory-assembler-'));
    await writeFile(join(dir, 'segment-0.json'), '{}');
    await assembler.renderSegment({
      index: 0,
      imagePath: join(dir, 'image.png'),
      durationSec: 6,
      cues: [],
      motion: { zoomFrom: 1, zoomTo: 1.1, panFrom: { x: 0, y: 0 }, panTo: { x: 0, y: 0 } },
      width: 270,
      height: 480,
      fps: 30,
      x264Preset: 'ultrafast',
      fadeInSec: 0,
      fadeOutSec: 0,
      lang: 'en',
      outPath: join(dir, 'segment-0.json'),
    });
    const finished = await assembler.finish({
      segments: [{ index: 0, path: join(dir, 'segment-0.json'), durationSec: 6 }],
      audio: { path: join(dir, 'audio.json'), durationSec: 6 },
      durationSec: 6,
      outPath: join(dir, 'video.json'),
      title: 'Tea',
    });
    // A memory video as large as a real short one, so that 60 % of it is still watchable.
    await appendFile(finished.path, ' '.repeat(400_000));
    video = { ...finished, sizeBytes: finished.sizeBytes + 400_000 };
    await writeFile(join(dir, 'voice.wav'), 'a voice of 4 s');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  videoAssemblerUploadContract(() => ({ assembler, video, dir }));
  voiceRetimeContract(() => ({ assembler, voicePath: join(dir, 'voice.wav'), voiceSec: 4, dir }));
});
