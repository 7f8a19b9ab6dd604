/**
 * Music beds from the project's own `music/` folder, described by `music/manifest.json`. Every track
 * states its license there. A mood with no usable track falls back to a generated bed, so an empty
 * library (the default) still gives every video music.
 */
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { z } from 'zod';
import { throwIfCancelled } from '../../core/errors.js';
import { MOODS, type Mood } from '../../pipeline/model.js';
import type { MusicBed, MusicProvider } from '../../pipeline/ports.js';
import { MusicGenerator } from '../offline/music-generator.js';
import { hashString } from '../offline/seeded-random.js';

const trackSchema = z.object({
  file: z.string().trim().min(1),
  mood: z.enum(MOODS),
  title: z.string().trim().min(1),
  license: z.string().trim().min(1, { message: 'every track needs a license' }),
  source: z.string().trim().min(1).optional(),
});

export type LibraryTrack = z.infer<typeof trackSchema>;

const manifestSchema = z.object({ tracks: z.array(z.unknown()) });

export interface MusicLibraryOptions {
  /** The folder holding `manifest.json` and the tracks (default `./music`). */
  dir?: string;
  /** Used when the library has no track for the mood. */
  fallback?: MusicProvider;
  /** Told about manifest problems; the library keeps working without the bad entries. */
  onWarning?: (message: string) => void;
}

export class MusicLibrary implements MusicProvider {
  private readonly dir: string;
  private readonly fallback: MusicProvider;
  private readonly warn: (message: string) => void;
  private tracks: Promise<LibraryTrack[]> | undefined;
  private readonly warnedMissing = new Set<string>();

  constructor(options: MusicLibraryOptions = {}) {
    this.dir = resolve(options.dir ?? 'music');
    this.fallback = options.fallback ?? new MusicGenerator();
    this.warn = options.onWarning ?? (() => undefined);
  }

  async bed(request: { mood: Mood; durationSec: number; seed: string; dir: string }, signal?: AbortSignal): Promise<MusicBed> {
    throwIfCancelled(signal);
    const tracks = (await this.load()).filter((track) => track.mood === request.mood);
    const usable: LibraryTrack[] = [];
    for (const track of tracks) {
      if (await isFile(this.pathOf(track))) usable.push(track);
      else if (!this.warnedMissing.has(track.file)) {
        this.warnedMissing.add(track.file);
        this.warn(`music/manifest.json: ${track.file} is listed but missing; skipped`);
      }
    }
    throwIfCancelled(signal);
    if (usable.length === 0) return this.fallback.bed(request, signal);
    const track = usable[hashString(request.seed) % usable.length] as LibraryTrack;
    // The track is used in place: the job's folder may be deleted, the library must not be.
    return { path: this.pathOf(track), source: 'library', title: track.title, license: track.license };
  }

  /** The manifest's valid tracks; read once, then cached. */
  load(): Promise<LibraryTrack[]> {
    this.tracks ??= this.readManifest();
    return this.tracks;
  }

  private pathOf(track: LibraryTrack): string {
    return resolve(this.dir, track.file);
  }

  private async readManifest(): Promise<LibraryTrack[]> {
    const path = resolve(this.dir, 'manifest.json');
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.warn(`music/manifest.json could not be read; using generated music`);
      return [];
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.warn('music/manifest.json is not valid JSON; using generated music');
      return [];
    }
    const manifest = manifestSchema.safeParse(json);
    if (!manifest.success) {
      this.warn('music/manifest.json should look like { "tracks": [...] }; using generated music');
      return [];
    }
    const tracks: LibraryTrack[] = [];
    manifest.data.tracks.forEach((entry, i) => {
      const parsed = trackSchema.safeParse(entry);
      if (!parsed.success) {
        const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'entry'}: ${issue.message}`).join('; ');
        this.warn(`music/manifest.json tracks[${i}] skipped: ${problems}`);
        return;
      }
      const inside = relative(this.dir, this.pathOf(parsed.data));
      if (isAbsolute(parsed.data.file) || inside.startsWith('..') || isAbsolute(inside)) {
        this.warn(`music/manifest.json tracks[${i}] skipped: file must be a path inside the music folder`);
        return;
      }
      tracks.push(parsed.data);
    });
    return tracks;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
