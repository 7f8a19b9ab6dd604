/**
 * The journal against a real short write: a writer process whose file-size limit (RLIMIT_FSIZE,
 * set from outside with prlimit) cuts a record in the middle, the way a full disk does.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/queue/journal.js';
import type { WriterRecord } from './fixtures/journal-writer.js';

const run = promisify(execFile);
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reelforge-journal-'));
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

class Writer {
  private readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private waiters: Array<() => void> = [];

  constructor(path: string, quiet = false) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'test/queue/fixtures/journal-writer.ts', path], { stdio: ['pipe', 'pipe', quiet ? 'ignore' : 'inherit'] });
    children.push(this.child);
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  async next(): Promise<string> {
    while (this.lines.length === 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.lines.shift() ?? '';
  }

  async append(id: string, bytes: number): Promise<string> {
    this.child.stdin!.write(`append ${id} ${bytes}\n`);
    return this.next();
  }

  async exit(): Promise<void> {
    this.child.stdin!.write('exit\n');
    expect(await this.next()).toBe('closed');
  }

  /** Sets the process's file-size limit in bytes (soft; the hard limit stays as it was). */
  async limitFileSize(bytes: number | 'unlimited'): Promise<void> {
    const { stdout } = await run('prlimit', ['--pid', String(this.pid), '--fsize', '--output=HARD', '--noheadings']);
    await run('prlimit', ['--pid', String(this.pid), `--fsize=${bytes}:${stdout.trim()}`]);
  }
}

describe('journal writes are all-or-nothing', () => {
  it('a record cut short by the file-size limit is refused and removed; the next one is not glued to it', async () => {
    const path = join(dir, 'short-write', 'journal.jsonl');
    const writer = new Writer(path);
    expect(await writer.next()).toMatch(/^ready /);
    expect(await writer.append('a', 300)).toBe('ok a');
    expect(await writer.append('b', 300)).toBe('ok b');
    // The next record crosses the limit: the kernel writes part of it and stops.
    const { size } = await stat(path);
    await writer.limitFileSize(size + 100);
    const answer = await writer.append('c', 300);
    expect(answer).toMatch(/^err c /);
    // Space comes back (the disk was cleaned): writing goes on from the last whole record.
    await writer.limitFileSize('unlimited');
    expect(await writer.append('d', 300)).toBe('ok d');
    await writer.exit();

    const text = await readFile(path, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    for (const line of text.split('\n').filter(Boolean)) expect(() => JSON.parse(line) as unknown).not.toThrow();
    const { journal, records } = await Journal.open<WriterRecord>(path);
    await journal.close();
    expect(records.map((r) => r.id)).toEqual(['a', 'b', 'd']);
  });

  it('what was acknowledged is on disk, whatever the limit did', async () => {
    const path = join(dir, 'acknowledged', 'journal.jsonl');
    const writer = new Writer(path);
    expect(await writer.next()).toMatch(/^ready /);
    await writer.limitFileSize(2000);
    const acknowledged: string[] = [];
    for (let i = 0; i < 12; i++) {
      const answer = await writer.append(`r${i}`, 100 + 37 * i);
      if (answer.startsWith('ok ')) acknowledged.push(`r${i}`);
    }
    await writer.exit();
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(acknowledged.length).toBeLessThan(12);
    const { journal, records } = await Journal.open<WriterRecord>(path);
    await journal.close();
    expect(records.map((r) => r.id)).toEqual(acknowledged);
  });
});

/** A live process that is not reelforge: the pid a stale lock may point at after a reboot. */
function bystander(): ChildProcess {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(child);
  return child;
}

async function bootTimeMs(): Promise<number> {
  const btime = /^btime (\d+)$/m.exec(await readFile('/proc/stat', 'utf8'))?.[1];
  return Number(btime) * 1000;
}

async function startTicks(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[19]);
}

describe('the journal lock', () => {
  it('a lock written before the last reboot does not block start-up, even when its pid is alive again', async () => {
    const path = join(dir, 'reboot', 'journal.jsonl');
    await mkdir(join(dir, 'reboot'), { recursive: true });
    const other = bystander();
    // The older format (a pid alone), last touched before this boot.
    await writeFile(`${path}.lock`, String(other.pid));
    const before = (await bootTimeMs()) / 1000 - 3600;
    await utimes(`${path}.lock`, before, before);
    const { journal } = await Journal.open(path);
    await journal.close();
  });

  it('a lock whose pid now belongs to another process (another start time) is stale; the real holder is not', async () => {
    const path = join(dir, 'reused', 'journal.jsonl');
    await mkdir(join(dir, 'reused'), { recursive: true });
    const other = bystander();
    const pid = other.pid ?? 0;
    const bootId = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
    const ticks = await startTicks(pid);
    await writeFile(`${path}.lock`, JSON.stringify({ pid, bootId, startTicks: ticks - 1 }));
    const { journal } = await Journal.open(path);
    await journal.close();

    await writeFile(`${path}.lock`, JSON.stringify({ pid, bootId, startTicks: ticks }));
    await expect(Journal.open(path)).rejects.toThrow(`Another reelforge process (pid ${pid})`);
  });

  it('of several processes racing over a stale lock, exactly one takes it', async () => {
    const path = join(dir, 'race', 'journal.jsonl');
    await mkdir(join(dir, 'race'), { recursive: true });
    await writeFile(`${path}.lock`, JSON.stringify({ pid: 2 ** 22 + 17, bootId: 'gone', startTicks: 1 }));
    const writers = Array.from({ length: 4 }, () => new Writer(path, true));
    const answers = await Promise.all(writers.map((w) => w.next()));
    expect(answers.filter((a) => a.startsWith('ready')).length).toBe(1);
    expect(answers.filter((a) => a.startsWith('refused')).length).toBe(3);
  });
});
