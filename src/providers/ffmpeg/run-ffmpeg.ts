/**
 * A small typed wrapper over `child_process.spawn` for ffmpeg and ffprobe (fluent-ffmpeg is
 * archived upstream). One process per call; cancellation, progress and errors become typed values.
 */
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { childProcessEnv } from '../../config.js';
import { ReelforgeError, cancelledBy, diskFull } from '../../core/errors.js';

export const INSTALL_HINT =
  'Install it with: sudo apt-get install -y ffmpeg espeak-ng fonts-dejavu-core (or run: npm run setup)';

/** How many lines of stderr a failure keeps in its cause. */
const STDERR_TAIL_LINES = 20;
const STDERR_LINE_MAX = 400;

export interface RunToolOptions {
  signal?: AbortSignal;
  /** Called with the output position in seconds (ffmpeg's `-progress pipe:1`, `out_time_us`). */
  onProgress?: (outTimeSec: number) => void;
  /** Keep stdout (ffprobe JSON, raw frames); otherwise it is read and dropped. */
  captureStdout?: boolean;
  /**
   * Writes the process's standard input (raw frames for `-i pipe:0`); it is closed when the
   * promise resolves. A rejection kills the process and becomes the call's error; a write that
   * fails because the process exited leaves the process's own exit status to tell why.
   */
  stdin?: (input: Writable) => Promise<void>;
  cwd?: string;
  /** Variables added to the minimal environment the process gets (see `childProcessEnv`). */
  extraEnv?: Readonly<Record<string, string>>;
  /** Time between SIGTERM and SIGKILL after an abort. */
  killGraceMs?: number;
  /** ffmpeg's `-loglevel`; the failure cause keeps the stderr tail, so `error` keeps it readable. */
  logLevel?: 'quiet' | 'error' | 'warning' | 'info';
}

export interface RunToolResult {
  stdout: Buffer;
  stderrTail: string[];
}

/** The cause of a `render_failed` error: what the process said, for logs (never shown to users). */
export class ToolFailure extends Error {
  override readonly name = 'ToolFailure';
  constructor(
    readonly tool: string,
    readonly exitCode: number | null,
    readonly exitSignal: NodeJS.Signals | null,
    readonly stderrTail: string[],
  ) {
    super(`${tool} exited with ${exitCode ?? exitSignal ?? 'unknown status'}:\n${stderrTail.join('\n')}`);
  }
}

/**
 * glibc 2.35+ then backs ffmpeg's large allocations with transparent huge pages: x264 touches
 * ~450 MB of frame buffers per 1080x1920 encode, and faulting them in 2 MB at a time instead of
 * 4 KB cut ffmpeg's kernel time per 5 s segment from 0.4-0.8 s to ~0.2 s and its wall time by
 * 15-25% here. Older glibc ignores the tunable; so does a kernel with huge pages off.
 */
const FFMPEG_ENV = { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' } as const;

export function runFfmpeg(args: readonly string[], options: RunToolOptions = {}): Promise<RunToolResult> {
  const level = options.logLevel ?? 'error';
  const head = ['-hide_banner', '-nostdin', '-loglevel', level];
  const progress = options.onProgress ? ['-progress', 'pipe:1', '-nostats'] : [];
  return runTool('ffmpeg', [...head, ...progress, ...args], { ...options, extraEnv: { ...FFMPEG_ENV, ...options.extraEnv } });
}

export async function runFfprobe(args: readonly string[], options: RunToolOptions = {}): Promise<string> {
  const result = await runTool('ffprobe', ['-hide_banner', '-v', 'error', ...args], { ...options, captureStdout: true });
  return result.stdout.toString('utf8');
}

/**
 * Runs `binary` with `args`. Resolves when it exits 0; rejects with `cancelled` when the signal
 * aborts (after the process is gone, so callers may delete its files), `missing_dependency` when
 * the binary is not on PATH, and `render_failed` otherwise.
 */
export function runTool(binary: string, args: readonly string[], options: RunToolOptions = {}): Promise<RunToolResult> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(cancelledBy(signal));

  return new Promise<RunToolResult>((resolve, reject) => {
    // A minimal environment: programs that parse untrusted media never see a secret of ours.
    const env = childProcessEnv(options.extraEnv);
    const child = spawn(binary, args, { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdoutChunks: Buffer[] = [];
    const stderrTail: string[] = [];
    let stderrRest = '';
    let progressRest = '';
    let aborted = false;
    let spawnError: NodeJS.ErrnoException | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let feedError: unknown;
    let feedFailed = false;

    const onAbort = (): void => {
      aborted = true;
      child.kill('SIGTERM');
      // ffmpeg normally stops at once on SIGTERM; a stuck filter or encoder gets SIGKILL.
      killTimer = setTimeout(() => child.kill('SIGKILL'), options.killGraceMs ?? 1500);
      killTimer.unref();
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    const pushStderrLine = (line: string): void => {
      if (line.trim() === '') return;
      stderrTail.push(line.length > STDERR_LINE_MAX ? `${line.slice(0, STDERR_LINE_MAX)}…` : line);
      if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
    };

    child.stdout.on('data', (chunk: Buffer) => {
      if (options.captureStdout) stdoutChunks.push(chunk);
      if (!options.onProgress) return;
      const lines = (progressRest + chunk.toString('latin1')).split('\n');
      progressRest = lines.pop() ?? '';
      for (const line of lines) {
        const match = /^out_time_us=(\d+)/.exec(line);
        if (match?.[1] !== undefined) options.onProgress(Number(match[1]) / 1e6);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      const lines = (stderrRest + chunk.toString('utf8')).split(/\r?\n|\r/);
      stderrRest = lines.pop() ?? '';
      for (const line of lines) pushStderrLine(line);
    });

    child.on('error', (error: NodeJS.ErrnoException) => {
      spawnError = error;
    });

    const feed = options.stdin;
    const input = child.stdin;
    let inputBroken = false;
    // EPIPE when the process exits before reading everything: its exit status says why.
    input.on('error', () => {
      inputBroken = true;
    });
    if (!feed) {
      input.end();
    } else {
      // Settles on its own: the handlers below never throw, and 'close' reports the outcome.
      void feed(input).then(
        () => input.end(),
        (error: unknown) => {
          if (!inputBroken && !input.destroyed && !aborted) {
            feedFailed = true;
            feedError = error;
            child.kill('SIGKILL');
          }
          input.destroy();
        },
      );
    }

    // 'close' follows 'error' too, and fires only once stdio is drained.
    child.on('close', (code, exitSignal) => {
      signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      pushStderrLine(stderrRest);

      if (spawnError?.code === 'ENOENT') {
        reject(new ReelforgeError('missing_dependency', `${binary} is not installed. ${INSTALL_HINT}`, { cause: spawnError }));
      } else if (aborted && signal) {
        reject(cancelledBy(signal));
      } else if (spawnError) {
        reject(new ReelforgeError('render_failed', `Could not start ${binary}.`, { cause: spawnError }));
      } else if (feedFailed) {
        reject(feedError instanceof ReelforgeError ? feedError : new ReelforgeError('render_failed', `Could not feed ${binary}.`, { cause: feedError }));
      } else if (stderrTail.some((line) => /No space left on device|Disk quota exceeded/i.test(line))) {
        // A full disk is not a bad render: the job is tried again later. Checked before the exit
        // status: ffmpeg can exit 0 after failing to write its trailer, leaving a file cut short
        // (a WAV or an MP4 without its moov atom) that only the next step would find broken.
        reject(diskFull(new ToolFailure(binary, code, exitSignal, stderrTail)));
      } else if (code === 0) {
        resolve({ stdout: Buffer.concat(stdoutChunks), stderrTail });
      } else {
        const failure = new ToolFailure(binary, code, exitSignal, stderrTail);
        reject(new ReelforgeError('render_failed', `${binary} failed (exit ${code ?? exitSignal ?? '?'}).`, { cause: failure }));
      }
    });
  });
}

/** Debian packages that provide each program we run. */
const PACKAGE_OF: Readonly<Record<string, string>> = {
  ffmpeg: 'ffmpeg',
  ffprobe: 'ffmpeg',
  'espeak-ng': 'espeak-ng',
  'fc-match': 'fontconfig',
};

export interface ToolCheck {
  missing: string[];
  /** One line that installs what is missing; empty when nothing is. */
  installCommand: string;
}

/**
 * Looks the programs up on PATH without running them (a few ms: one `sh`, no ffmpeg start-up).
 * The names travel as positional arguments, never inside the script.
 */
export async function checkTools(names: readonly string[] = ['ffmpeg', 'ffprobe', 'espeak-ng']): Promise<ToolCheck> {
  const script = 'for n in "$@"; do command -v "$n" >/dev/null 2>&1 || printf "%s\\n" "$n"; done';
  const { stdout } = await runTool('sh', ['-c', script, 'check-tools', ...names], { captureStdout: true });
  const missing = stdout.toString('utf8').split('\n').filter((line) => line !== '');
  const packages = [...new Set(missing.map((name) => PACKAGE_OF[name] ?? name))];
  const installCommand = packages.length === 0 ? '' : `sudo apt-get install -y ${packages.join(' ')}`;
  return { missing, installCommand };
}
