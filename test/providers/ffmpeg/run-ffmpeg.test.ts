import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe, probeDurationSec } from '../../../src/providers/ffmpeg/probe.js';
import { ToolFailure, checkTools, runFfmpeg, runTool } from '../../../src/providers/ffmpeg/run-ffmpeg.js';
import { makeTone } from '../../helpers/media.js';
import { caught } from '../../helpers/errors.js';
import { waitFor } from '../../helpers/wait-for.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reelforge-run-ffmpeg-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Live processes whose command line mentions `marker` (read from /proc). */
async function processesMentioning(marker: string): Promise<number> {
  let count = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes(marker) && cmdline.startsWith('ffmpeg')) count++;
    } catch {
      // the process ended while we looked
    }
  }
  return count;
}

describe('runFfmpeg', () => {
  it('runs ffmpeg and reports progress in seconds of output', async () => {
    const out = join(dir, 'progress.wav');
    const seen: number[] = [];
    await runFfmpeg(['-y', '-f', 'lavfi', '-i', 'sine=f=300:d=3', out], { onProgress: (sec) => seen.push(sec) });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toBeCloseTo(3, 1);
    expect(await probeDurationSec(out)).toBeCloseTo(3, 2);
  });

  it('turns a failure into render_failed with a short message and the stderr tail as cause', async () => {
    const error = await caught(runFfmpeg(['-y', '-i', join(dir, 'no-such-input.png'), join(dir, 'x.mp4')]));
    expect(error.code).toBe('render_failed');
    expect(error.message.length).toBeLessThan(80);
    expect(error.message).not.toContain(dir);
    expect(error.cause).toBeInstanceOf(ToolFailure);
    const failure = error.cause as ToolFailure;
    expect(failure.exitCode).not.toBe(0);
    expect(failure.stderrTail.length).toBeGreaterThan(0);
    expect(failure.stderrTail.length).toBeLessThanOrEqual(20);
    expect(failure.stderrTail.join('\n')).toContain('No such file or directory');
  });

  it('kills ffmpeg promptly when the signal aborts and rejects with cancelled', async () => {
    const marker = `endless-${Date.now()}`;
    const out = join(dir, `${marker}.mkv`);
    const controller = new AbortController();
    // A source with no end: only the abort can stop it.
    const run = runFfmpeg(['-y', '-re', '-f', 'lavfi', '-i', 'testsrc2=s=160x120:r=10', '-c:v', 'ffv1', out], {
      signal: controller.signal,
    });
    await waitFor('ffmpeg to start', async () => (await processesMentioning(marker)) === 1);
    controller.abort();
    const error = await caught(run);
    expect(error.code).toBe('cancelled');
    expect(await processesMentioning(marker)).toBe(0);
  });

  it('does not start at all when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await caught(runFfmpeg(['-f', 'lavfi', '-i', 'sine', '-f', 'null', '-'], { signal: controller.signal }));
    expect(error.code).toBe('cancelled');
  });

  it('keeps stdout when asked (raw media through a pipe)', async () => {
    const { stdout } = await runFfmpeg(
      ['-f', 'lavfi', '-i', 'color=c=white:s=4x2', '-frames:v', '1', '-pix_fmt', 'gray', '-f', 'rawvideo', 'pipe:1'],
      { captureStdout: true },
    );
    expect(stdout.length).toBe(8);
    expect(Math.min(...stdout)).toBeGreaterThan(200);
  });
});

describe('missing programs', () => {
  it('a binary that is not installed gives missing_dependency with the install command', async () => {
    const error = await caught(runTool('reelforge-no-such-binary', ['-version']));
    expect(error.code).toBe('missing_dependency');
    expect(error.message).toContain('reelforge-no-such-binary is not installed');
    expect(error.message).toContain('sudo apt-get install -y ffmpeg espeak-ng fonts-dejavu-core');
    expect(error.message).toContain('npm run setup');
  });

  it('checkTools finds the installed tools and names the missing ones with one apt line', async () => {
    const present = await checkTools(['ffmpeg', 'ffprobe']);
    expect(present).toEqual({ missing: [], installCommand: '' });

    const some = await checkTools(['ffmpeg', 'reelforge-no-such-tool', 'reelforge-other-tool']);
    expect(some.missing).toEqual(['reelforge-no-such-tool', 'reelforge-other-tool']);
    expect(some.installCommand).toBe('sudo apt-get install -y reelforge-no-such-tool reelforge-other-tool');
  });

  it('checkTools treats shell metacharacters in names as plain names', async () => {
    const check = await checkTools(['$(touch /tmp/reelforge-pwned)', 'a;b']);
    expect(check.missing).toEqual(['$(touch /tmp/reelforge-pwned)', 'a;b']);
    await expect(stat('/tmp/reelforge-pwned')).rejects.toThrow();
  });
});

describe('probe', () => {
  it('describes an audio file: duration, codec, sample rate, channels, size, format', async () => {
    const path = join(dir, 'tone.wav');
    await makeTone(path, { freq: 440, durationSec: 1.25, sampleRate: 24_000 });
    const info = await probe(path);
    expect(info.durationSec).toBeCloseTo(1.25, 2);
    expect(info.formatName).toBe('wav');
    expect(info.sizeBytes).toBeGreaterThan(24_000 * 2);
    expect(info.streams).toHaveLength(1);
    expect(info.streams[0]).toMatchObject({ codec_type: 'audio', codec_name: 'pcm_s16le', sample_rate: 24_000, channels: 1 });
  });

  it('fails with render_failed for a file that is not media', async () => {
    const error = await caught(probe(join(dir, 'nothing-here.mp4')));
    expect(error.code).toBe('render_failed');
  });
});

describe('runFfmpeg with frames on stdin', () => {
  const rawArgs = (out: string): string[] => ['-y', '-f', 'rawvideo', '-pix_fmt', 'gray', '-video_size', '16x16', '-framerate', '10', '-i', 'pipe:0', '-f', 'mp4', out];

  it('encodes what the feeder writes and closes stdin when it is done', async () => {
    const out = join(dir, 'fed.mp4');
    await runFfmpeg(rawArgs(out), {
      stdin: async (input) => {
        for (let n = 0; n < 10; n++) await new Promise<void>((resolve, reject) => input.write(Buffer.alloc(256, n * 20), (e) => (e ? reject(e) : resolve())));
      },
    });
    expect((await probe(out)).streams[0]).toMatchObject({ width: 16, height: 16 });
    expect(await probeDurationSec(out)).toBeCloseTo(1, 1);
  });

  it("turns a feeder's failure into the call's error and stops the process", async () => {
    const marker = join(dir, 'feeder-fails-marker.mp4');
    const error = await caught(
      runFfmpeg(rawArgs(marker), {
        stdin: () => Promise.reject(new Error('no frames today')),
      }),
    );
    expect(error.code).toBe('render_failed');
    expect((error.cause as Error).message).toBe('no frames today');
    expect(await processesMentioning('feeder-fails-marker')).toBe(0);
  });

  it('reports the process failing mid-feed by its own exit status, not as a broken pipe', async () => {
    // A frame size ffmpeg rejects: it exits while the feeder still writes.
    const error = await caught(
      runFfmpeg(['-y', '-f', 'rawvideo', '-pix_fmt', 'gray', '-video_size', '16x16', '-i', 'pipe:0', '-c:v', 'no-such-encoder', '-f', 'mp4', join(dir, 'never.mp4')], {
        stdin: async (input) => {
          for (let n = 0; n < 200; n++) {
            await new Promise<void>((resolve, reject) => input.write(Buffer.alloc(65_536), (e) => (e ? reject(e) : resolve())));
          }
        },
      }),
    );
    expect(error.code).toBe('render_failed');
    expect(error.cause).toBeInstanceOf(ToolFailure);
  });

  it('an abort while feeding rejects with cancelled', async () => {
    const controller = new AbortController();
    const error = await caught(
      runFfmpeg(rawArgs(join(dir, 'aborted.mp4')), {
        signal: controller.signal,
        stdin: async (input) => {
          for (let n = 0; ; n++) {
            if (n === 5) controller.abort();
            await new Promise<void>((resolve, reject) => input.write(Buffer.alloc(256), (e) => (e ? reject(e) : resolve())));
          }
        },
      }),
    );
    expect(error.code).toBe('cancelled');
  });
});
