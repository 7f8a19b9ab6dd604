/**
 * Whole LLM responses keyed by the full request (model, messages, schema, sampling), so a retried
 * or resumed job replays the script it already paid for instead of asking again.
 */
import type { LlmUsage } from '../../core/receipt.js';
import { ContentStore, contentKey } from './content-store.js';

export interface CachedLlmResponse {
  /** The validated JSON text, replayed through the same parser as a live stream. */
  text: string;
  /** What the original call cost (for logs; a replay itself costs nothing). */
  usage: LlmUsage;
}

export interface LlmResponseCache {
  get(request: unknown): Promise<CachedLlmResponse | undefined>;
  put(request: unknown, response: CachedLlmResponse): Promise<void>;
}

export function fileLlmCache(dir: string): LlmResponseCache {
  const store = new ContentStore(dir);
  return {
    async get(request) {
      const hit = await store.get<{ usage: LlmUsage }>(contentKey({ kind: 'llm', request }));
      return hit ? { text: hit.data.toString('utf8'), usage: hit.meta.usage } : undefined;
    },
    async put(request, response) {
      await store.put(contentKey({ kind: 'llm', request }), Buffer.from(response.text, 'utf8'), { usage: response.usage });
    },
  };
}

/** For tests and one-shot runs: the same contract, in memory. */
export function memoryLlmCache(): LlmResponseCache {
  const entries = new Map<string, CachedLlmResponse>();
  return {
    get: (request) => Promise.resolve(entries.get(contentKey(request))),
    put: (request, response) => {
      entries.set(contentKey(request), response);
      return Promise.resolve();
    },
  };
}
