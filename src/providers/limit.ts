/**
 * Process-wide bounds on a provider's calls. The pipeline bounds calls within one job; these bound
 * them across every job in the process, so N jobs at once do not make N times the calls a provider
 * allows (and answer with 429s).
 */
import PQueue from 'p-queue';
import type { ImageProvider, SpeechProvider } from '../pipeline/ports.js';

export function limitImages(provider: ImageProvider, concurrency: number): ImageProvider {
  const queue = new PQueue({ concurrency });
  return {
    offline: provider.offline,
    model: provider.model,
    generate: (request, signal) => queue.add(() => provider.generate(request, signal), signal ? { signal } : {}),
  };
}

export function limitSpeech(provider: SpeechProvider, concurrency: number): SpeechProvider {
  const queue = new PQueue({ concurrency });
  return {
    offline: provider.offline,
    model: provider.model,
    synthesize: (request, signal) => queue.add(() => provider.synthesize(request, signal), signal ? { signal } : {}),
    ...(provider.wordsPerSecond ? { wordsPerSecond: (lang: string) => provider.wordsPerSecond?.(lang) ?? 2.5 } : {}),
  };
}
