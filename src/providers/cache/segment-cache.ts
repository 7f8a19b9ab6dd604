/**
 * Encoded segments, cached by content: the key is everything that changes a segment's clip (the
 * picture's bytes, its length, caption text and timing, motion, size, frame rate, encoder preset,
 * fades, language, bitrate cap, and the encoder's own code), so re-rendering an edited storyboard
 * encodes only the segments whose inputs changed and copies the rest. Entries are written to a temp
 * file and renamed into place; the metadata file is written last and marks an entry complete.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { markUsed } from './prune.js';
import { join } from 'node:path';
import { throwIfCancelled } from '../../core/errors.js';
import type { RenderedSegment, SegmentRenderInput, VideoAssembler } from '../../pipeline/ports.js';
import { copyFileAtomic, writeFileAtomic } from '../../store/atomic-write.js';
import { contentKey } from './content-store.js';

export interface SegmentCacheOptions {
  /** Folded into every key: a fingerprint of the encoder's code, so a changed encoder misses. */
  variant?: string | Promise<string>;
  /** Told when an entry could not be written (the render itself still succeeds). */
  onWarning?: (message: string) => void;
}

interface SegmentMeta {
  durationSec: number;
}

/** The segment-cache key of one render input: its picture's hash and every other field but where files are. */
export async function segmentKey(input: SegmentRenderInput, variant = ''): Promise<string> {
  const { index: _index, imagePath, outPath: _outPath, ...look } = input;
  return contentKey({ kind: 'segment', picture: await hashFile(imagePath), variant, ...look });
}

/** A VideoAssembler whose `renderSegment` is served from `dir` when the same clip was encoded before. */
export function cachedSegments(assembler: VideoAssembler, dir: string, options: SegmentCacheOptions = {}): VideoAssembler {
  const paths = (hash: string): { data: string; meta: string } => {
    const folder = join(dir, hash.slice(0, 2));
    return { data: join(folder, `${hash}.mp4`), meta: join(folder, `${hash}.json`) };
  };
  return {
    async renderSegment(input: SegmentRenderInput, signal?: AbortSignal): Promise<RenderedSegment> {
      const key = await segmentKey(input, await options.variant);
      throwIfCancelled(signal);
      const entry = paths(key);
      const hit = await readMeta(entry.meta);
      if (hit) {
        try {
          await copyFile(entry.data, input.outPath);
          await markUsed(entry.data, entry.meta); // recently used: pruning keeps it
          return { index: input.index, path: input.outPath, durationSec: hit.durationSec, cached: true };
        } catch {
          // A damaged entry is a miss: encode again and overwrite it.
        }
      }
      const rendered = await assembler.renderSegment(input, signal);
      try {
        await mkdir(join(dir, key.slice(0, 2)), { recursive: true });
        await copyFileAtomic(rendered.path, entry.data);
        await writeFileAtomic(entry.meta, JSON.stringify({ durationSec: rendered.durationSec } satisfies SegmentMeta));
      } catch (error) {
        options.onWarning?.(`could not keep an encoded segment in the cache: ${(error as Error).message}`);
      }
      return rendered;
    },
    mixAudio: (input, signal) => assembler.mixAudio(input, signal),
    finish: (input, signal) => assembler.finish(input, signal),
    probeDurationSec: (path, signal) => assembler.probeDurationSec(path, signal),
    thumbnail: (videoPath, outPath, atSec, signal) => assembler.thumbnail(videoPath, outPath, atSec, signal),
    fitToSize: (inPath, outPath, maxBytes, signal) => assembler.fitToSize(inPath, outPath, maxBytes, signal),
    retimeVoice: (input, signal) => assembler.retimeVoice(input, signal),
  };
}

/**
 * A fingerprint of every file under `dir` (names and bytes): the encoder's code, so entries
 * encoded by another version of it are not served.
 */
export async function fingerprintFolder(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (folder: string, prefix: string): Promise<void> => {
    const entries = (await readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path, `${prefix}${entry.name}/`);
      else if (entry.isFile()) hash.update(`${prefix}${entry.name}\0`).update(await readFile(path)).update('\0');
    }
  };
  await walk(dir, '');
  return hash.digest('hex').slice(0, 16);
}

async function readMeta(path: string): Promise<SegmentMeta | undefined> {
  try {
    const meta = JSON.parse(await readFile(path, 'utf8')) as Partial<SegmentMeta>;
    return typeof meta.durationSec === 'number' ? { durationSec: meta.durationSec } : undefined;
  } catch {
    return undefined;
  }
}

function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
