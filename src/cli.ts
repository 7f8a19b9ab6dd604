/**
 * The `reelforge` command: `video` renders locally, `bot` runs the configured chat bots,
 * `worker` works queued jobs. Exit codes: 0 done, 1 the job failed, 2 bad arguments or config.
 */
import { parseArgs } from 'node:util';
import { isReelforgeError, ReelforgeError, toReelforgeError } from './core/errors.js';
import { MAX_DURATION_SEC, MIN_DURATION_SEC, validateVideoRequest, type VideoRequest } from './core/request.js';

const USAGE = `Usage:
  reelforge video <seconds> "<topic>" [--tier ultra_fast|balanced|quality] [--lang en|ru|...]
                  [--aspect 9:16|16:9|1:1] [--out FILE] [--script FILE] [--bible] [--json]
  reelforge bot       run the configured Telegram and Discord bots (and work jobs unless ROLE=bot)
  reelforge worker    work jobs from the Redis queue (REDIS_URL)

Durations are ${MIN_DURATION_SEC}-${MAX_DURATION_SEC} seconds. With no OPENAI_API_KEY or OPENAI_BASE_URL,
offline providers make a draft video. Environment variables: see README.md.`;

export interface VideoCommand {
  request: VideoRequest;
  out?: string;
  json: boolean;
  wantBible: boolean;
}

/** Parses `video` arguments; throws ReelforgeError('bad_input') with a one-line reason. */
export async function parseVideoArgs(args: string[], readScript: (path: string) => Promise<string>): Promise<VideoCommand> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        tier: { type: 'string' },
        lang: { type: 'string' },
        aspect: { type: 'string' },
        out: { type: 'string', short: 'o' },
        script: { type: 'string' },
        json: { type: 'boolean', default: false },
        bible: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new ReelforgeError('bad_input', `${(error as Error).message}. Run "reelforge --help" for usage.`);
  }
  const [duration, ...topicWords] = parsed.positionals;
  if (duration === undefined) {
    throw new ReelforgeError('bad_input', `Give a duration and a topic, e.g. reelforge video 30 "The history of tea" (${MIN_DURATION_SEC}-${MAX_DURATION_SEC} s).`);
  }
  let script: string | undefined;
  if (parsed.values.script !== undefined) {
    try {
      script = await readScript(parsed.values.script);
    } catch {
      throw new ReelforgeError('bad_input', `Cannot read the script file "${parsed.values.script}".`);
    }
    if (!script.trim()) throw new ReelforgeError('bad_input', `The script file "${parsed.values.script}" is empty.`);
  }
  const request = validateVideoRequest({
    duration,
    topic: topicWords.join(' '),
    ...(parsed.values.tier !== undefined ? { tier: parsed.values.tier } : {}),
    ...(parsed.values.lang !== undefined ? { lang: parsed.values.lang } : {}),
    ...(parsed.values.aspect !== undefined ? { aspect: parsed.values.aspect } : {}),
    ...(script !== undefined ? { script } : {}),
  });
  return {
    request,
    ...(parsed.values.out !== undefined ? { out: parsed.values.out } : {}),
    json: parsed.values.json ?? false,
    wantBible: parsed.values.bible ?? false,
  };
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'video': {
        const { readFile } = await import('node:fs/promises');
        const video = await parseVideoArgs(rest, (path) => readFile(path, 'utf8'));
        const { runVideoCommand } = await import('./main.js');
        return await runVideoCommand(video);
      }
      case 'bot':
      case 'worker': {
        const { runService } = await import('./main.js');
        return await runService(command);
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return command === undefined ? 2 : 0;
      default:
        console.error(`Unknown command "${command}".\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    const e = toReelforgeError(error);
    console.error(`reelforge: ${e.message}`);
    if (!isReelforgeError(error) || e.code === 'internal') console.error(error instanceof Error ? (error.stack ?? '') : String(error));
    return e.code === 'bad_input' || e.code === 'config' ? 2 : 1;
  }
}
