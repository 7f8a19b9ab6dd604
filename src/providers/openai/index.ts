/**
 * The OpenAI-compatible providers, built together from one typed options object (the composition
 * root passes `config.openai` and a cache directory under DATA_DIR).
 */
import { join } from 'node:path';
import type { ImageProvider, PromptFixer, ScriptWriter, SpeechProvider } from '../../pipeline/ports.js';
import { fileLlmCache } from '../cache/llm-cache.js';
import { cachedImages, cachedSpeech } from '../cache/media-cache.js';
import { createOpenAiClient, type OpenAiClientOptions } from './client.js';
import { OpenAiImages, type ImageQuality } from './images.js';
import { OpenAiLlm } from './llm.js';
import { OpenAiPromptFixer } from './prompt-fixer.js';
import { OpenAiScriptWriter } from './script-writer.js';
import { OpenAiSpeech } from './speech.js';
import { DEFAULT_TRANSCRIPTION_MODEL, OpenAiWordTimer } from './word-timer.js';

export interface OpenAiProvidersOptions {
  apiKey: string;
  baseURL?: string | undefined;
  llmModel: string;
  imageModel: string;
  imageQuality: ImageQuality;
  ttsModel: string;
  ttsVoice: string;
  /** Style direction for gpt-4o-mini-tts. */
  ttsInstructions?: string;
  /** Word timings for captions through the transcription endpoint (a paid call per voice clip); on by default. */
  wordTimings?: boolean;
  /** Transcription model with word timestamps (default whisper-1). */
  transcriptionModel?: string;
  /** Told when word timing fails and the captions fall back to estimates. */
  onWordTimingFailure?: (error: unknown) => void;
  /** Content-addressed caches go here (e.g. `<DATA_DIR>/cache`); none when absent. */
  cacheDir?: string;
  timeouts?: OpenAiClientOptions['timeouts'];
  retry?: OpenAiClientOptions['retry'];
}

export interface OpenAiProviders {
  writer: ScriptWriter;
  fixer: PromptFixer;
  images: ImageProvider;
  speech: SpeechProvider;
  llm: OpenAiLlm;
}

export function createOpenAiProviders(options: OpenAiProvidersOptions): OpenAiProviders {
  const connection = createOpenAiClient({
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    ...(options.timeouts ? { timeouts: options.timeouts } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
  });
  const cacheDir = options.cacheDir;
  const llm = new OpenAiLlm(connection, { model: options.llmModel, ...(cacheDir ? { cache: fileLlmCache(join(cacheDir, 'llm')) } : {}) });
  const images = new OpenAiImages(connection, { model: options.imageModel, quality: options.imageQuality });
  const voice = new OpenAiSpeech(connection, {
    model: options.ttsModel,
    voice: options.ttsVoice,
    ...(options.ttsInstructions ? { instructions: options.ttsInstructions } : {}),
  });
  // Timed inside the cache: a cached clip keeps its word timings and is never transcribed twice.
  const speech =
    options.wordTimings === false
      ? voice
      : new OpenAiWordTimer(connection, {
          model: options.transcriptionModel ?? DEFAULT_TRANSCRIPTION_MODEL,
          ...(options.onWordTimingFailure ? { onFailure: options.onWordTimingFailure } : {}),
        }).wrap(voice);
  return {
    llm,
    writer: new OpenAiScriptWriter(llm),
    fixer: new OpenAiPromptFixer(llm),
    images: cacheDir ? cachedImages(images, join(cacheDir, 'images'), { variant: options.imageQuality }) : images,
    speech: cacheDir ? cachedSpeech(speech, join(cacheDir, 'speech')) : speech,
  };
}

export { createOpenAiClient, type OpenAiClientOptions, type OpenAiConnection } from './client.js';
export { OpenAiImages, imageSizeFor } from './images.js';
export { OpenAiLlm } from './llm.js';
export { OpenAiPromptFixer } from './prompt-fixer.js';
export { OpenAiScriptWriter, wantsBible } from './script-writer.js';
export { OpenAiSpeech } from './speech.js';
export { DEFAULT_TRANSCRIPTION_MODEL, OpenAiWordTimer, alignWords } from './word-timer.js';
