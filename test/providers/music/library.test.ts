import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MusicLibrary } from '../../../src/providers/music/library.js';
import { encodeWav16 } from '../../../src/providers/wav.js';
import { musicProviderContract } from '../../contracts/music-provider.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'reelforge-library-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const tone = encodeWav16(new Int16Array(44_100 * 2).fill(1200), 44_100, 2);

/** A library folder with these manifest entries and these files. */
async function library(manifest: unknown, files: string[] = []): Promise<{ dir: string; warnings: string[]; lib: MusicLibrary }> {
  const dir = await mkdtemp(join(root, 'music-'));
  for (const file of files) {
    await mkdir(join(dir, file, '..'), { recursive: true });
    await writeFile(join(dir, file), tone);
  }
  if (manifest !== undefined) await writeFile(join(dir, 'manifest.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  const warnings: string[] = [];
  return { dir, warnings, lib: new MusicLibrary({ dir, onWarning: (m) => warnings.push(m) }) };
}

const request = (mood: 'calm' | 'epic' | 'dark', seed = 'job-1') => ({ mood, durationSec: 5, seed, dir: join(root, 'job') });

musicProviderContract('library with one calm track', async () => {
  const { lib } = await library({ tracks: [{ file: 'calm.wav', mood: 'calm', title: 'Calm', license: 'CC0' }] }, ['calm.wav']);
  return { provider: lib };
});

describe('MusicLibrary', () => {
  it('picks a manifest track of the mood, in place, with its title and license', async () => {
    const { dir, lib, warnings } = await library(
      {
        tracks: [
          { file: 'calm/a.wav', mood: 'calm', title: 'Morning', license: 'CC0', source: 'https://example.org/a' },
          { file: 'epic/b.wav', mood: 'epic', title: 'March', license: 'CC BY 4.0, Someone' },
        ],
      },
      ['calm/a.wav', 'epic/b.wav'],
    );
    expect(await lib.bed(request('epic'))).toEqual({ path: join(dir, 'epic/b.wav'), source: 'library', title: 'March', license: 'CC BY 4.0, Someone' });
    expect((await lib.bed(request('calm'))).title).toBe('Morning');
    expect(warnings).toEqual([]);
  });

  it('chooses among several tracks by the seed: the same job gets the same track, jobs spread out', async () => {
    const tracks = ['a', 'b', 'c', 'd'].map((n) => ({ file: `${n}.wav`, mood: 'calm', title: n, license: 'CC0' }));
    const { lib } = await library({ tracks }, tracks.map((t) => t.file));
    const first = await lib.bed(request('calm', 'job-7'));
    expect((await lib.bed(request('calm', 'job-7'))).title).toBe(first.title);
    const titles = new Set<string>();
    for (let i = 0; i < 24; i++) titles.add((await lib.bed(request('calm', `job-${i}`))).title);
    expect(titles.size).toBeGreaterThan(1);
  });

  it('falls back to a generated bed when the listed file is missing, warning once', async () => {
    const { lib, warnings } = await library({ tracks: [{ file: 'gone.wav', mood: 'dark', title: 'Gone', license: 'CC0' }] });
    const bed = await lib.bed(request('dark'));
    expect(bed.source).toBe('generated');
    await lib.bed(request('dark', 'job-2'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('gone.wav');
  });

  it('falls back to a generated bed for a mood with no tracks, and with no manifest at all', async () => {
    const { lib } = await library({ tracks: [{ file: 'a.wav', mood: 'calm', title: 'A', license: 'CC0' }] }, ['a.wav']);
    expect((await lib.bed(request('epic'))).source).toBe('generated');
    const { lib: empty, warnings } = await library(undefined);
    expect((await empty.bed(request('calm'))).source).toBe('generated');
    expect(warnings).toEqual([]);
  });

  it('skips bad entries with a warning and keeps the good ones', async () => {
    const { lib, warnings } = await library(
      {
        tracks: [
          { file: 'no-license.wav', mood: 'calm', title: 'No license' },
          { file: 'weird.wav', mood: 'jazzy', title: 'Unknown mood', license: 'CC0' },
          { file: '../outside.wav', mood: 'calm', title: 'Escapes', license: 'CC0' },
          'not even an object',
          { file: 'good.wav', mood: 'calm', title: 'Good', license: 'CC0' },
        ],
      },
      ['no-license.wav', 'weird.wav', 'good.wav'],
    );
    const tracks = await lib.load();
    expect(tracks.map((t) => t.title)).toEqual(['Good']);
    expect(warnings).toHaveLength(4);
    expect(warnings.join('\n')).toMatch(/tracks\[0\].*license/);
    expect(warnings.join('\n')).toMatch(/tracks\[1\].*mood/);
    expect(warnings.join('\n')).toMatch(/tracks\[2\].*inside the music folder/);
    for (let i = 0; i < 6; i++) expect((await lib.bed(request('calm', `j${i}`))).title).toBe('Good');
  });

  it('survives a manifest that is not JSON or has the wrong shape', async () => {
    for (const manifest of ['{ not json', JSON.stringify({ songs: [] })]) {
      const { lib, warnings } = await library(manifest);
      expect((await lib.bed(request('calm'))).source).toBe('generated');
      expect(warnings).toHaveLength(1);
    }
  });

  it('reads the shipped music/manifest.json', async () => {
    const warnings: string[] = [];
    const shipped = new MusicLibrary({ dir: 'music', onWarning: (m) => warnings.push(m) });
    expect(await shipped.load()).toEqual([]);
    expect(warnings).toEqual([]);
  });
});
