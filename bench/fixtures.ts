/**
 * Inputs for the render benchmark, made once per run: 12 pictures the size image models return
 * for a vertical short (1024x1536 JPEG, drawn by the offline illustrator), 12 spoken sentences
 * (espeak-ng) for a 60 s timeline, a generated music bed, and a "dots" chart for tracking motion.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCanvas } from '@napi-rs/canvas';
import { buildCues } from '../src/pipeline/captions.js';
import type { Cue } from '../src/pipeline/ports.js';
import { OfflineIllustrator } from '../src/providers/offline/illustrator.js';
import { EspeakSpeech } from '../src/providers/offline/espeak-speech.js';
import { MusicGenerator } from '../src/providers/offline/music-generator.js';

/** gpt-image-1's portrait size, which the OpenAI provider asks for a 9:16 video. */
export const SOURCE_SIZE = { width: 1024, height: 1536 } as const;

export interface RenderFixtures {
  images: string[];
  voices: Array<{ path: string; durationSec: number; cues: Cue[] }>;
  musicPath: string;
  /** A dark chart with bright round dots, for the jitter measurement. */
  dotsPath: string;
  /** Dot centres in the chart, as fractions of its width and height. */
  dots: Array<{ x: number; y: number }>;
}

const SENTENCES = [
  'In the spring of 1453 a great city waited behind its walls.',
  'Sultan Mehmed brought cannons larger than anyone had ever seen.',
  'The defenders stretched a heavy chain across the Golden Horn.',
  'So the Ottomans dragged their ships over a hill at night.',
  'For seven weeks the guns struck the ancient land walls.',
  'Emperor Constantine rode among his soldiers to keep them strong.',
  'Genoese sailors fought beside the Greeks on the broken towers.',
  'On the twenty ninth of May the final assault began.',
  'A small gate was left open and the attackers poured through.',
  'By noon the banners of the Sultan flew above the city.',
  'The last Roman emperor was never seen again after that day.',
  'A thousand years of history ended and a new age began.',
];

export const DOTS = [0.36, 0.5, 0.64].flatMap((x) => [0.4, 0.6].map((y) => ({ x, y })));

export async function makeRenderFixtures(dir: string, count = 12): Promise<RenderFixtures> {
  const illustrator = new OfflineIllustrator();
  const images: string[] = [];
  for (let index = 0; index < count; index++) {
    const result = await illustrator.generate({
      prompt: SENTENCES[index % SENTENCES.length]!,
      style: 'oil painting',
      width: SOURCE_SIZE.width,
      height: SOURCE_SIZE.height,
      index,
      total: count,
      mood: 'epic',
      keywords: SENTENCES[index % SENTENCES.length]!.split(' ').slice(1, 4).join(' '),
    });
    const path = join(dir, `image-${index}.${result.ext}`);
    await writeFile(path, result.data);
    images.push(path);
  }

  const speech = new EspeakSpeech();
  const voices: RenderFixtures['voices'] = [];
  for (let index = 0; index < count; index++) {
    const result = await speech.synthesize({ text: SENTENCES[index % SENTENCES.length]!, lang: 'en' });
    const path = join(dir, `voice-${index}.wav`);
    await writeFile(path, result.data);
    voices.push({ path, durationSec: result.durationSec ?? 4, cues: buildCues(result.marks ?? [], 0) });
  }

  const music = await new MusicGenerator().bed({ mood: 'epic', durationSec: count * 5 + 10, seed: 'bench', dir });

  const dotsPath = join(dir, 'dots.png');
  await writeFile(dotsPath, drawDots(SOURCE_SIZE.width, SOURCE_SIZE.height));
  return { images, voices, musicPath: music.path, dotsPath, dots: DOTS };
}

/** Soft round dots (radius ~4 px) on near-black: their centroids can be found to 1/100 px. */
function drawDots(width: number, height: number): Buffer {
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#101010';
  ctx.fillRect(0, 0, width, height);
  for (const dot of DOTS) {
    const x = dot.x * width;
    const y = dot.y * height;
    const glow = ctx.createRadialGradient(x, y, 0, x, y, 5);
    glow.addColorStop(0, '#ffffff');
    glow.addColorStop(1, 'rgba(255,255,255,0)');
    ctx.fillStyle = glow;
    ctx.beginPath();
    ctx.arc(x, y, 5, 0, Math.PI * 2);
    ctx.fill();
  }
  return canvas.toBuffer('image/png');
}
