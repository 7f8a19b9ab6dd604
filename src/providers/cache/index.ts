export { ContentStore, canonicalJson, contentKey } from './content-store.js';
export { cachedImages, cachedSpeech, type CacheOptions } from './media-cache.js';
export { fileLlmCache, memoryLlmCache, type CachedLlmResponse, type LlmResponseCache } from './llm-cache.js';
export { cachedSegments, fingerprintFolder, segmentKey, type SegmentCacheOptions } from './segment-cache.js';
export { markUsed, pruneFolder, startPruning, type DataDirPruner, type PruneResult, type PruneRule } from './prune.js';
