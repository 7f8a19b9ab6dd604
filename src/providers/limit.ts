/**
 * Process-wide bounds on a provider's calls, the only ones: they bound calls across every job in
 * the process (and within one), so N jobs at once do not make N times the calls a provider allows
 * (and answer with 429s). A waiting call leaves at once when its job is cancelled.
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
    ...(provider.wordsPerSecond ? { wordsPerSecond: provider.wordsPerSecond.bind(provider) } : {}),
  };
}
