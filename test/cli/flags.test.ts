/**
 * `reelforge --version`, `--help` for the tool and for every command, and arguments it does not know.
 * Run as a process, the way an operator types them.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runReelforge } from '../helpers/reelforge-process.js';

/** A bot token pointing at a closed port: a command that started the bot instead of printing help would fail or hang. */
const env = { DATA_DIR: '/tmp/reelforge-unused', TELEGRAM_BOT_TOKEN: '123:help-must-not-start', TELEGRAM_API_ROOT: 'http://127.0.0.1:9', REDIS_URL: 'redis://127.0.0.1:9' };

function reelforge(args: string[]): ReturnType<typeof runReelforge> {
  return runReelforge(args, env, 30_000);
}

describe('reelforge --version and --help', () => {
  it.each([['--version'], ['-v']])('%s prints the version from package.json', async (flag) => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    const result = await reelforge([flag]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`reelforge ${version}\n`);
    expect(result.stderr).toBe('');
  });

  it.each([['--help'], ['-h'], ['help']])('%s lists every command', async (flag) => {
    const result = await reelforge([flag]);
    expect(result.code, result.stderr).toBe(0);
    for (const command of ['video', 'bot', 'worker']) expect(result.stdout).toMatch(new RegExp(`^  ${command} +\\S`, 'm'));
    expect(result.stdout).toContain('--version');
  });

  it('prints the usage on stderr and exits 2 with no command', async () => {
    const result = await reelforge([]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('Usage: reelforge <command>');
  });

  it.each([
    ['video', ['video', '--help'], /--tier ultra_fast\|balanced\|quality[\s\S]*--json[\s\S]*Exit codes/],
    ['video', ['video', '20', 'tea', '-h'], /--script FILE/],
    ['bot', ['bot', '--help'], /TELEGRAM_BOT_TOKEN[\s\S]*ROLE=bot/],
    ['worker', ['worker', '-h'], /REDIS_URL/],
    ['video', ['help', 'video'], /--aspect/],
  ] as Array<[string, string[], RegExp]>)('reelforge %s help (%j) prints its own usage and starts nothing', async (command, args, body) => {
    const result = await reelforge(args);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.startsWith(`Usage: reelforge ${command}`)).toBe(true);
    expect(result.stdout).toMatch(body);
    expect(result.stderr).toBe('');
  });
});

describe('arguments reelforge does not know', () => {
  it.each([
    ['an unknown command', ['frobnicate'], /Unknown command "frobnicate"\. Run "reelforge --help"/],
    ['an unknown global flag', ['--verbose'], /Unknown command "--verbose"/],
    ['an option the bot does not take', ['bot', '--port', '80'], /reelforge bot: Unknown option '--port'.*reelforge bot --help/],
    ['a positional argument to the worker', ['worker', 'now'], /reelforge worker: Unexpected argument 'now'.*reelforge worker --help/],
    ['an unknown video flag', ['video', '20', 'tea', '--fast'], /Unknown option '--fast'.*reelforge video --help/],
    ['arguments after --version', ['--version', 'video'], /--version takes no arguments/],
    ['help for a command that does not exist', ['help', 'deploy'], /No help for "deploy"/],
  ] as Array<[string, string[], RegExp]>)('refuses %s with exit code 2 and one line', async (_label, args, message) => {
    const result = await reelforge(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
