/** The shared contract suites, run against the OpenAI providers (and their caches) over the real SDK. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedImages, cachedSpeech } from '../../../src/providers/cache/media-cache.js';
import { createOpenAiClient } from '../../../src/providers/openai/client.js';
import { OpenAiImages } from '../../../src/providers/openai/images.js';
import { OpenAiLlm } from '../../../src/providers/openai/llm.js';
import { OpenAiScriptWriter } from '../../../src/providers/openai/script-writer.js';
import { OpenAiSpeech } from '../../../src/providers/openai/speech.js';
import { imageProviderContract } from '../../contracts/image-provider.js';
import { scriptWriterContract } from '../../contracts/script-writer.js';
import { speechProviderContract } from '../../contracts/speech-provider.js';
import { FakeOpenAiServer } from '../../fakes/openai-server.js';

async function serve(options: { imageScale?: number; tokensPerSec?: number } = {}) {
  const fake = await FakeOpenAiServer.start({ imageScale: options.imageScale ?? 0.2, latency: { tokensPerSec: options.tokensPerSec } });
  const connection = createOpenAiClient({ apiKey: 'sk-contract', baseURL: fake.baseURL });
  return { fake, connection };
}

scriptWriterContract('openai', async () => {
  // A realistic stream speed, so a cancel lands while the model is still writing.
  const { fake, connection } = await serve({ tokensPerSec: 4000 });
  return { writer: new OpenAiScriptWriter(new OpenAiLlm(connection, { model: 'gpt-4o-mini' })), cleanup: () => fake.close() };
});

imageProviderContract('openai gpt-image-1-mini', async () => {
  const { fake, connection } = await serve();
  return { provider: new OpenAiImages(connection, { model: 'gpt-image-1-mini', quality: 'low' }), cleanup: () => fake.close() };
});

imageProviderContract('openai dall-e-3', async () => {
  const { fake, connection } = await serve();
  return { provider: new OpenAiImages(connection, { model: 'dall-e-3' }), cleanup: () => fake.close() };
});

imageProviderContract('cached openai images', async () => {
  const { fake, connection } = await serve();
  const dir = await mkdtemp(join(tmpdir(), 'reelforge-contract-'));
  return {
    provider: cachedImages(new OpenAiImages(connection, { model: 'gpt-image-1' }), dir),
    cleanup: async () => {
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

speechProviderContract('openai gpt-4o-mini-tts', async () => {
  const { fake, connection } = await serve();
  return { provider: new OpenAiSpeech(connection, { model: 'gpt-4o-mini-tts', voice: 'alloy' }), cleanup: () => fake.close() };
});

speechProviderContract('cached openai speech', async () => {
  const { fake, connection } = await serve();
  const dir = await mkdtemp(join(tmpdir(), 'reelforge-contract-'));
  return {
    provider: cachedSpeech(new OpenAiSpeech(connection, { model: 'tts-1', voice: 'alloy' }), dir),
    cleanup: async () => {
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
