/**
 * Runs `reelforge` commands as child processes, the way a user or an operator does.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const bin = resolve('bin/reelforge.mjs');

export interface Service {
  child: ChildProcess;
  output: () => string;
}

/** This process's environment without keys, bots or Redis from the developer's shell, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(OPENAI_|TELEGRAM_|DISCORD_|REDIS_URL|ROLE|ADMIN_IDS)/.test(k)) clean[k] = v;
  return { ...clean, ...extra };
}

/** Runs `reelforge <args>` to the end; a non-zero exit is a result, not an exception. */
export async function runReelforge(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 240_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { env: cleanEnv(env), timeout: timeoutMs, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Starts `reelforge <args>` in the background with a clean environment plus `env`. */
export function startReelforge(args: string[], env: Record<string, string>, children: ChildProcess[]): Service {
  const child = spawn(process.execPath, [bin, ...args], { env: cleanEnv({ LOG_LEVEL: 'info', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  children.push(child);
  return { child, output: () => output };
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

export async function stopAll(children: ChildProcess[]): Promise<void> {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited(child);
  }
}

