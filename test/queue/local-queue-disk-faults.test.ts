/**
 * The local queue on a disk that refuses writes (a real file-size limit on the queue's process,
 * set with prlimit): its state in memory never runs ahead of its journal, and a job does not stay
 * stuck once the disk takes writes again.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalJobQueue } from '../../src/queue/local-queue.js';
import type { Command } from './fixtures/queue-process.js';

const run = promisify(execFile);
let root: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'reelforge-queue-faults-'));
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

type Line = Record<string, unknown>;

class QueueProcess {
  private readonly child: ChildProcess;
  private readonly lines: Line[] = [];
  private waiters: Array<() => void> = [];

  constructor(readonly dir: string) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'test/queue/fixtures/queue-process.ts', dir], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(this.child);
    createInterface({ input: this.child.stdout! }).on('line', (text) => {
      this.lines.push(JSON.parse(text) as Line);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** The first line (seen before or after this call) that matches; fails after `timeoutMs`. */
  async waitFor(match: (line: Line) => boolean, what: string, timeoutMs = 20_000): Promise<Line> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.lines.findIndex(match);
      if (index >= 0) return this.lines.splice(index, 1)[0] ?? {};
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what}; seen: ${JSON.stringify(this.lines)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  async send(command: Command): Promise<Line> {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
    return this.waitFor((l) => l.re === command.cmd, `answer to ${command.cmd}`);
  }

  /** Soft file-size limit in bytes for the process (the hard limit stays). */
  async limitFileSize(bytes: number | 'unlimited'): Promise<void> {
    const pid = String(this.child.pid);
    const { stdout } = await run('prlimit', ['--pid', pid, '--fsize', '--output=HARD', '--noheadings']);
    await run('prlimit', ['--pid', pid, `--fsize=${bytes}:${stdout.trim()}`]);
  }

  /** From now on the journal cannot grow: the next record is cut short. */
  async fillDisk(): Promise<void> {
    const { size } = await stat(join(this.dir, 'journal.jsonl'));
    await this.limitFileSize(size + 16);
  }
}

async function started(): Promise<QueueProcess> {
  const queue = new QueueProcess(join(root, randomUUID()));
  await queue.waitFor((l) => 'ready' in l, 'ready', 60_000);
  return queue;
}

async function stateOnDisk(dir: string, id: string): Promise<string | undefined> {
  const reopened = await LocalJobQueue.open({ dir });
  try {
    return (await reopened.get(id))?.state;
  } finally {
    await reopened.close();
  }
}

describe('local queue on a full disk', () => {
  it('a cancel the journal refuses fails and changes nothing; once the disk takes writes it works', async () => {
    const queue = await started();
    const { id } = (await queue.send({ cmd: 'enqueue', user: 'ann', key: 'k1' })) as { id: string };
    await queue.fillDisk();
    expect(await queue.send({ cmd: 'cancel', id })).toMatchObject({ error: expect.stringContaining('journal') as unknown });
    expect(await queue.send({ cmd: 'get', id })).toMatchObject({ state: 'waiting' });
    await queue.limitFileSize('unlimited');
    expect(await queue.send({ cmd: 'cancel', id })).toMatchObject({ ok: true });
    await queue.waitFor((l) => l.event === 'cancelled' && l.jobId === id, 'cancelled event');
    await queue.send({ cmd: 'exit' });
    expect(await stateOnDisk(queue.dir, id)).toBe('cancelled');
  });

  it('a start the journal refuses leaves the job waiting, and it starts once the disk takes writes', async () => {
    const queue = await started();
    const { id } = (await queue.send({ cmd: 'enqueue', user: 'ann', key: 'k1' })) as { id: string };
    await queue.fillDisk();
    await queue.send({ cmd: 'work' });
    await queue.waitFor((l) => typeof l.log === 'string' && l.log.includes(`start of job ${id}`), 'a logged refused start');
    expect(await queue.send({ cmd: 'get', id })).toMatchObject({ state: 'waiting' });
    await queue.limitFileSize('unlimited');
    await queue.waitFor((l) => l.running === id, 'the job running');
    await queue.send({ cmd: 'release', id });
    await queue.waitFor((l) => l.event === 'completed' && l.jobId === id, 'completed event');
    await queue.send({ cmd: 'exit' });
    expect(await stateOnDisk(queue.dir, id)).toBe('completed');
  });

  it('a finished job whose outcome the journal refuses stays running, and completes once the disk takes writes', async () => {
    const queue = await started();
    const { id } = (await queue.send({ cmd: 'enqueue', user: 'ann', key: 'k1' })) as { id: string };
    await queue.send({ cmd: 'work' });
    await queue.waitFor((l) => l.running === id, 'the job running');
    await queue.fillDisk();
    await queue.send({ cmd: 'release', id });
    await queue.waitFor((l) => typeof l.log === 'string' && l.log.includes(`outcome of job ${id}`), 'a logged refused outcome');
    expect(await queue.send({ cmd: 'get', id })).toMatchObject({ state: 'active' });
    await queue.limitFileSize('unlimited');
    await queue.waitFor((l) => l.event === 'completed' && l.jobId === id, 'completed event');
    // The user is not blocked: their next job is taken.
    expect(await queue.send({ cmd: 'enqueue', user: 'ann', key: 'k2' })).toHaveProperty('id');
    await queue.send({ cmd: 'exit' });
    expect(await stateOnDisk(queue.dir, id)).toBe('completed');
  });
});
