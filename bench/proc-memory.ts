/**
 * Peak memory of the ffmpeg processes a benchmark starts: every 100 ms, the resident sizes (VmRSS
 * in /proc) of all ffmpeg processes whose command line mentions `marker` (the bench's scratch
 * folder, so colleagues' renders on the same machine are not counted) are summed, plus how far this
 * process's own RSS has grown since sampling began (reelforge makes its Ken Burns frames in-process);
 * the peak sum is kept. Linux only for the ffmpeg part.
 */
import { readdir, readFile } from 'node:fs/promises';

export interface MemorySampler {
  /** Stops sampling; resolves with the peak summed RSS in bytes. */
  stop(): Promise<number>;
}

export function sampleFfmpegMemory(marker: string, intervalMs = 100): MemorySampler {
  let peak = 0;
  let running = true;
  const ownBaseline = process.memoryUsage.rss();
  const loop = (async () => {
    while (running) {
      const own = Math.max(0, process.memoryUsage.rss() - ownBaseline);
      peak = Math.max(peak, (await ffmpegRss(marker)) + own);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}

async function ffmpegRss(marker: string): Promise<number> {
  let total = 0;
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  } catch {
    return 0;
  }
  for (const pid of pids) {
    try {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.startsWith('ffmpeg') || !cmdline.includes(marker)) continue;
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
      if (kb) total += Number(kb) * 1024;
    } catch {
      // The process ended while we looked.
    }
  }
  return total;
}
