/**
 * Caching wrappers for the image and speech ports. Identical requests (same prompt, style, model
 * and size; same text, voice, model and language) are paid for once; concurrent identical requests
 * share one provider call. Results served from disk are marked `cached: true`.
 */
import type {
  ImageProvider,
  ImageRequest,
  ImageResult,
  SpeechMark,
  WordTiming,
  SpeechProvider,
  SpeechRequest,
  SpeechResult,
} from '../../pipeline/ports.js';
import { ReelforgeError, throwIfCancelled } from '../../core/errors.js';
import { ContentStore, contentKey } from './content-store.js';

export interface CacheOptions {
  /** Anything else that changes the output (e.g. image quality), folded into the key. */
  variant?: string;
}

/**
 * Concurrent identical requests share one provider call. A sharer whose own signal is fine does not
 * inherit another caller's cancellation: it runs the work itself instead.
 */
function sharedInFlight<T>(): (key: string, signal: AbortSignal | undefined, run: () => Promise<T>) => Promise<T> {
  const inFlight = new Map<string, Promise<T>>();
  return (key, signal, run) => {
    throwIfCancelled(signal);
    const existing = inFlight.get(key);
    if (existing) {
      return existing.catch((error: unknown) => {
        if (error instanceof ReelforgeError && error.code === 'cancelled' && !signal?.aborted) return run();
        throw error;
      });
    }
    const promise = run().finally(() => inFlight.delete(key));
    inFlight.set(key, promise);
    return promise;
  };
}

interface ImageMeta {
  ext: ImageResult['ext'];
}

export function cachedImages(provider: ImageProvider, dir: string, options: CacheOptions = {}): ImageProvider {
  const store = new ContentStore(dir);
  const once = sharedInFlight<ImageResult>();
  return {
    offline: provider.offline,
    model: provider.model,
    async generate(request: ImageRequest, signal?: AbortSignal): Promise<ImageResult> {
      const key = contentKey({
        kind: 'image',
        prompt: request.prompt,
        style: request.style,
        model: provider.model,
        width: request.width,
        height: request.height,
        variant: options.variant ?? '',
        // A re-roll's take; the first take keeps the key it always had.
        ...(request.take ? { take: request.take } : {}),
      });
      return once(key, signal, async () => {
        const hit = await store.get<ImageMeta>(key);
        if (hit) return { data: hit.data, ext: hit.meta.ext, cached: true };
        const result = await provider.generate(request, signal);
        await store.put<ImageMeta>(key, result.data, { ext: result.ext });
        return { data: result.data, ext: result.ext };
      });
    },
  };
}

interface SpeechMeta {
  ext: SpeechResult['ext'];
  durationSec?: number;
  marks?: SpeechMark[];
  words?: WordTiming[];
}

export function cachedSpeech(provider: SpeechProvider, dir: string, options: CacheOptions = {}): SpeechProvider {
  const store = new ContentStore(dir);
  const once = sharedInFlight<SpeechResult>();
  return {
    offline: provider.offline,
    model: provider.model,
    ...(provider.wordsPerSecond ? { wordsPerSecond: provider.wordsPerSecond.bind(provider) } : {}),
    async synthesize(request: SpeechRequest, signal?: AbortSignal): Promise<SpeechResult> {
      const key = contentKey({
        kind: 'speech',
        text: request.text,
        voice: request.voice ?? '',
        model: provider.model,
        lang: request.lang,
        variant: options.variant ?? '',
      });
      return once(key, signal, async () => {
        const hit = await store.get<SpeechMeta>(key);
        if (hit) return { data: hit.data, ...hit.meta, cached: true };
        const result = await provider.synthesize(request, signal);
        const meta: SpeechMeta = {
          ext: result.ext,
          ...(result.durationSec !== undefined ? { durationSec: result.durationSec } : {}),
          ...(result.marks ? { marks: result.marks } : {}),
          ...(result.words ? { words: result.words } : {}),
        };
        await store.put(key, result.data, meta);
        // A paid transcription is counted once, on the call that made it, never on a cache hit.
        return { data: result.data, ...meta, ...(result.transcribedSec ? { transcribedSec: result.transcribedSec } : {}) };
      });
    },
  };
}
