import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ImageRequest } from '../../../src/pipeline/ports.js';
import { cachedImages, cachedSpeech } from '../../../src/providers/cache/media-cache.js';
import { createOpenAiClient, type OpenAiConnection } from '../../../src/providers/openai/client.js';
import { composeImagePrompt, imageSizeFor, OpenAiImages } from '../../../src/providers/openai/images.js';
import { OpenAiSpeech, splitForSpeech } from '../../../src/providers/openai/speech.js';
import { wavDurationSec } from '../../../src/providers/wav.js';
import { probeMedia } from '../../helpers/ffprobe.js';
import { FakeOpenAiServer } from '../../fakes/openai-server.js';

const portrait: ImageRequest = {
  prompt: 'Wide shot of the Theodosian walls at dawn',
  style: 'cinematic oil painting.',
  width: 1080,
  height: 1920,
  index: 0,
  total: 12,
  mood: 'epic',
  keywords: 'walls dawn',
};

describe('images and speech through the real SDK', () => {
  let fake: FakeOpenAiServer;
  let connection: OpenAiConnection;
  let dir: string;
  beforeAll(async () => {
    fake = await FakeOpenAiServer.start({ imageScale: 0.25 });
    connection = createOpenAiClient({ apiKey: 'sk-test', baseURL: fake.baseURL, retry: { baseDelayMs: 5, maxDelayMs: 20 } });
    dir = await mkdtemp(join(tmpdir(), 'reelforge-openai-'));
  });
  afterAll(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    fake.reset();
  });

  it('asks gpt-image-1 for a portrait JPEG at the configured quality, style first', async () => {
    const images = new OpenAiImages(connection, { model: 'gpt-image-1-mini', quality: 'low' });
    const result = await images.generate(portrait);
    const body = fake.requestsTo('images')[0]!.body;
    expect(body).toMatchObject({ model: 'gpt-image-1-mini', size: '1024x1536', quality: 'low', output_format: 'jpeg', n: 1 });
    expect(body.response_format).toBeUndefined();
    expect(body.prompt).toBe('cinematic oil painting. Wide shot of the Theodosian walls at dawn');
    expect(result.ext).toBe('jpg');
    const file = join(dir, 'gpt.jpg');
    await writeFile(file, result.data);
    expect((await probeMedia(file)).video).toMatchObject({ width: 256, height: 384 });
  });

  it('speaks dall-e-3 sizes and fetches a URL answer when the server gives one', async () => {
    const images = new OpenAiImages(connection, { model: 'dall-e-3', quality: 'high' });
    const result = await images.generate({ ...portrait, width: 1920, height: 1080 });
    const body = fake.requestsTo('images')[0]!.body;
    expect(body).toMatchObject({ model: 'dall-e-3', size: '1792x1024', quality: 'hd', response_format: 'b64_json' });
    expect(result.ext).toBe('png');
    expect(imageSizeFor('dall-e-3', 1080, 1920)).toBe('1024x1792');
    expect(imageSizeFor('gpt-image-1', 1080, 1080)).toBe('1024x1024');
    expect(composeImagePrompt({ prompt: 'x'.repeat(5000), style: '' }, 'dall-e-3')).toHaveLength(4000);
  });

  it('downloads the picture when a server answers with a URL', async () => {
    const urls = await FakeOpenAiServer.start({ alwaysUrl: true, imageScale: 0.25 });
    try {
      const images = new OpenAiImages(createOpenAiClient({ apiKey: 'k', baseURL: urls.baseURL }), { model: 'dall-e-2' });
      const result = await images.generate(portrait);
      expect(urls.requestsTo('images')[0]!.body).toMatchObject({ size: '1024x1024', response_format: 'b64_json' });
      expect(urls.requests.map((r) => r.path)).toEqual(['/v1/images/generations', expect.stringMatching(/^\/files\/.+\.png$/) as string]);
      expect(result.ext).toBe('png');
      const file = join(dir, 'url.png');
      await writeFile(file, result.data);
      expect((await probeMedia(file)).video).toMatchObject({ width: 256, height: 256 });
    } finally {
      await urls.close();
    }
  });

  it('reports a moderation block as content_policy, not retried', async () => {
    fake.inject('images', { kind: 'content_policy' });
    const images = new OpenAiImages(connection, { model: 'gpt-image-1' });
    await expect(images.generate(portrait)).rejects.toMatchObject({ code: 'content_policy' });
    expect(fake.requestsTo('images')).toHaveLength(1);
  });

  it('retries a 500 on images', async () => {
    fake.inject('images', { kind: 'server_error' });
    const images = new OpenAiImages(connection, { model: 'gpt-image-1' });
    await images.generate(portrait);
    expect(fake.requestsTo('images').map((r) => r.status)).toEqual([500, 200]);
  });

  it('speaks WAV and knows its length even from a streamed header with unknown sizes', async () => {
    const speech = new OpenAiSpeech(connection, { model: 'gpt-4o-mini-tts', voice: 'alloy', instructions: 'calm narrator' });
    const text = 'One two three four five six seven eight nine ten.';
    const result = await speech.synthesize({ text, lang: 'en' });
    const body = fake.requestsTo('speech')[0]!.body;
    expect(body).toMatchObject({ model: 'gpt-4o-mini-tts', voice: 'alloy', response_format: 'wav', instructions: 'calm narrator' });
    expect(result.ext).toBe('wav');
    expect(result.durationSec).toBeCloseTo(4, 1); // 10 words at 2.5 words/s
    const file = join(dir, 'voice.wav');
    await writeFile(file, result.data);
    expect((await probeMedia(file)).durationSec).toBeCloseTo(4, 1);
  });

  it('does not send instructions to tts-1, and uses the request voice over the default', async () => {
    const speech = new OpenAiSpeech(connection, { model: 'tts-1', voice: 'alloy', instructions: 'calm' });
    await speech.synthesize({ text: 'Hello there.', lang: 'en', voice: 'nova' });
    const body = fake.requestsTo('speech')[0]!.body;
    expect(body.instructions).toBeUndefined();
    expect(body.voice).toBe('nova');
  });

  it('falls back to MP3 on a server without WAV', async () => {
    const mp3Only = await FakeOpenAiServer.start({ speechFormats: ['mp3'] });
    try {
      const speech = new OpenAiSpeech(createOpenAiClient({ apiKey: 'k', baseURL: mp3Only.baseURL }), { model: 'tts-1', voice: 'alloy' });
      const result = await speech.synthesize({ text: 'A short line to say.', lang: 'en' });
      expect(result.ext).toBe('mp3');
      expect(result.durationSec).toBeUndefined();
      expect(mp3Only.requestsTo('speech').map((r) => r.status)).toEqual([400, 200]);
      const file = join(dir, 'voice.mp3');
      await writeFile(file, result.data);
      expect((await probeMedia(file)).durationSec).toBeGreaterThan(1.5);
    } finally {
      await mp3Only.close();
    }
  });

  it('splits long text into parts under the API limit and joins one WAV', async () => {
    const sentence = 'This sentence has exactly eight words in it. ';
    const parts = splitForSpeech(sentence.repeat(200).trim(), 4000);
    expect(parts.length).toBe(3);
    expect(parts.join(' ')).toBe(sentence.repeat(200).trim());
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(4000);
    const speech = new OpenAiSpeech(connection, { model: 'tts-1', voice: 'alloy' });
    const result = await speech.synthesize({ text: sentence.repeat(100), lang: 'en' });
    expect(fake.requestsTo('speech')).toHaveLength(2);
    expect(result.durationSec).toBeCloseTo(800 / 2.5, 0);
    expect(wavDurationSec(result.data)).toBeCloseTo(result.durationSec!, 3);
  });

  it('caches images by prompt, style, model and size, and speech by text and voice', async () => {
    const cacheDir = join(dir, 'cache');
    const images = cachedImages(new OpenAiImages(connection, { model: 'gpt-image-1' }), join(cacheDir, 'images'), { variant: 'low' });
    const first = await images.generate(portrait);
    const again = await images.generate({ ...portrait, index: 5, keywords: 'other' });
    expect(first.cached).toBeUndefined();
    expect(again.cached).toBe(true);
    expect(again.data.equals(first.data)).toBe(true);
    await images.generate({ ...portrait, style: 'watercolour' });
    expect(fake.requestsTo('images')).toHaveLength(2);

    const [a, b] = await Promise.all([images.generate({ ...portrait, prompt: 'same time' }), images.generate({ ...portrait, prompt: 'same time' })]);
    expect(a.data.equals(b.data)).toBe(true);
    expect(fake.requestsTo('images')).toHaveLength(3); // concurrent twins share one call

    const speech = cachedSpeech(new OpenAiSpeech(connection, { model: 'tts-1', voice: 'alloy' }), join(cacheDir, 'speech'));
    const s1 = await speech.synthesize({ text: 'Cached words here.', lang: 'en' });
    const s2 = await speech.synthesize({ text: 'Cached words here.', lang: 'en' });
    expect(s2).toMatchObject({ cached: true, ext: 'wav', durationSec: s1.durationSec });
    await speech.synthesize({ text: 'Cached words here.', lang: 'en', voice: 'nova' });
    expect(fake.requestsTo('speech')).toHaveLength(2);

    const leftovers = (await readdir(cacheDir, { recursive: true })).filter((f) => f.endsWith('.tmp'));
    expect(leftovers).toEqual([]);
  });
});
