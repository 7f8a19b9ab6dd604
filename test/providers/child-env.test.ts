import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runFfmpeg, runTool } from '../../src/providers/ffmpeg/run-ffmpeg.js';
import { EspeakSpeech } from '../../src/providers/offline/espeak-speech.js';

/** What a secret in this process's environment looks like: a child must never see it. */
const SECRETS = {
  OPENAI_API_KEY: 'sk-child-env-secret-1',
  TELEGRAM_BOT_TOKEN: '123:child-env-secret-2',
  REDIS_URL: 'redis://:child-env-secret-3@127.0.0.1:6379',
  SOME_OTHER_SECRET: 'child-env-secret-4',
};

let dir: string;
const saved = new Map<string, string | undefined>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reelforge-child-env-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function plantSecrets(): void {
  for (const [name, value] of Object.entries({ ...SECRETS, LC_ALL: 'C.UTF-8' })) {
    saved.set(name, process.env[name]);
    process.env[name] = value;
  }
}
afterEach(() => {
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  saved.clear();
});

function parseEnv(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return env;
}

function expectNoSecret(envText: string): void {
  for (const value of Object.values(SECRETS)) expect(envText).not.toContain(value);
  const env = parseEnv(envText);
  for (const name of Object.keys(SECRETS)) expect(env.has(name)).toBe(false);
}

describe('child processes get a minimal environment', () => {
  it('sh sees PATH, HOME and the locale, and none of the secrets in process.env', async () => {
    plantSecrets();
    const { stdout } = await runTool('sh', ['-c', 'env'], { captureStdout: true });
    const text = stdout.toString('utf8');
    expectNoSecret(text);
    const env = parseEnv(text);
    expect(env.get('PATH')).toBe(process.env.PATH);
    expect(env.get('LC_ALL')).toBe('C.UTF-8');
  });

  it('ffmpeg gets its huge-page tunable and no secret (a wrapper named ffmpeg on PATH records what it was given)', async () => {
    plantSecrets();
    // A wrapper on PATH named ffmpeg records the environment it was started with, then runs the real one.
    const bin = join(dir, 'bin');
    const dump = join(dir, 'ffmpeg-env.txt');
    await mkdir(bin, { recursive: true });
    const real = (await runTool('sh', ['-c', 'command -v ffmpeg'], { captureStdout: true })).stdout.toString('utf8').trim();
    await writeFile(join(bin, 'ffmpeg'), `#!/bin/sh\nenv > '${dump}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path ?? ''}`;
    try {
      await runFfmpeg(['-f', 'lavfi', '-i', 'anullsrc=d=0.1', '-f', 'null', '-']);
    } finally {
      process.env.PATH = path;
    }
    const text = await readFile(dump, 'utf8');
    expectNoSecret(text);
    expect(parseEnv(text).get('GLIBC_TUNABLES')).toBe('glibc.malloc.hugetlb=1');
  });

  it('espeak-ng gets no secret', async () => {
    plantSecrets();
    const dump = join(dir, 'espeak-env.txt');
    const wrapper = join(dir, 'espeak-wrapper');
    await writeFile(wrapper, `#!/bin/sh\nenv > '${dump}'\nexec espeak-ng "$@"\n`, { mode: 0o755 });
    const speech = new EspeakSpeech({ binary: wrapper });
    const result = await speech.synthesize({ text: 'Hello there.', lang: 'en' });
    expect(result.data.length).toBeGreaterThan(44);
    expectNoSecret(await readFile(dump, 'utf8'));
  });
});
