/**
 * The `reelforge` command: `video` renders locally, `bot` runs the configured chat bots,
 * `worker` works queued jobs. Exit codes: 0 done, 1 the job failed, 2 bad arguments or config.
 */
import { parseArgs } from 'node:util';
import { badInput, isReelforgeError, ReelforgeError, toReelforgeError } from './core/errors.js';
import { CAPTION_STYLES, isCaptionStyle, type CaptionStyle } from './core/caption-style.js';
import { MAX_DURATION_SEC, MIN_DURATION_SEC, validateVideoRequest, type VideoRequest } from './core/request.js';

const DURATIONS = `Durations are ${MIN_DURATION_SEC}-${MAX_DURATION_SEC} seconds.`;

/** What `reelforge <command> --help` prints, and the one-line summaries of `reelforge --help`. */
const COMMANDS = {
  video: {
    summary: 'render a video on this machine and print the path of the MP4',
    help: `Usage: reelforge video <seconds> "<topic>" [options]

Renders a narrated vertical video into DATA_DIR/out (default ./data/out) and prints its path.
${DURATIONS} With no OPENAI_API_KEY or OPENAI_BASE_URL, offline providers make a draft video.

Options:
  --tier ultra_fast|balanced|quality   quality tier (default: by duration)
  --lang en|ru|...                     narration language (default: the topic's)
  --aspect 9:16|16:9|1:1               frame shape (default 9:16)
  -o, --out FILE                       write the MP4 to FILE
  --script FILE                        your own narration, used word for word
  --captions clean|karaoke|pop         caption style (default karaoke: the spoken word highlighted)
  --bible                              a visual bible on the balanced tier
  --json                               print the receipt as JSON on stdout
  -h, --help                           this text

Exit codes: 0 done, 1 the render failed, 2 bad arguments or configuration.`,
  },
  storyboard: {
    summary: 'write the script only, as an editable JSON storyboard (only the script is paid)',
    help: `Usage: reelforge storyboard <seconds> "<topic>" [options]

Writes the script of a video as a JSON file to edit by hand: segments[].narration (what is spoken)
and segments[].picture (what the picture shows). Only the script call is paid; stderr says what it
cost and what rendering it will cost. Then: reelforge render FILE. ${DURATIONS}

Options:
  -o, --out FILE                       write the storyboard to FILE (default: stdout)
  --tier, --lang, --aspect, --script, --bible   as for reelforge video
  -h, --help                           this text`,
  },
  render: {
    summary: 'render a storyboard file; an edited one re-makes only what changed',
    help: `Usage: reelforge render FILE [options]

Renders a storyboard (from reelforge storyboard, maybe edited) without a script call. Pictures,
voices and encoded segments are cached by content, so rendering an edited file again makes only
what the edit made stale: a changed narration one speech call, a changed picture (or a raised
take) one image call; unchanged segments are not re-encoded.

Options:
  -o, --out MP4      write the video to MP4 (default: DATA_DIR/out)
  --captions clean|karaoke|pop   caption style (default karaoke); changing it re-encodes, never re-pays
  --json             print the receipt as JSON on stdout
  -h, --help         this text

Exit codes: 0 done, 1 the render failed, 2 a bad file (every wrong field named) or configuration.`,
  },
  bot: {
    summary: 'run the configured Telegram and Discord bots (and work jobs unless ROLE=bot)',
    help: `Usage: reelforge bot

Runs the Telegram bot (TELEGRAM_BOT_TOKEN) and the Discord bot (DISCORD_BOT_TOKEN and
DISCORD_APPLICATION_ID). Without REDIS_URL it also works the jobs, from a durable queue under
DATA_DIR; with REDIS_URL jobs go through Redis, and ROLE=bot leaves them to "reelforge worker".
Stops cleanly on SIGINT or SIGTERM: running jobs go back in line. Settings: environment or ./.env.`,
  },
  worker: {
    summary: 'work jobs from the Redis queue (REDIS_URL)',
    help: `Usage: reelforge worker

Takes jobs from the Redis queue (REDIS_URL, required), renders them and delivers each video to its
chat through the platform's HTTP API (the same TELEGRAM_BOT_TOKEN / DISCORD_BOT_TOKEN as the bot).
Run as many as you have machines. Stops cleanly on SIGINT or SIGTERM: running jobs go back in line.`,
  },
} as const;

type CommandName = keyof typeof COMMANDS;

function isCommand(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(COMMANDS, name);
}

const USAGE = `Usage: reelforge <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`)
  .join('\n')}

Options:
  -h, --help      this text; "reelforge <command> --help" for one command
  -v, --version   the version

${DURATIONS} Environment variables: see README.md.`;

const HELP_HINT = 'Run "reelforge --help" for usage.';

/** The version in package.json, which sits one folder above both src/ and dist/. */
async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

/** Arguments of a command that takes none but `--help`; throws ReelforgeError('bad_input') on anything else. */
function parseNoArgs(name: CommandName, args: string[]): { help: boolean } {
  try {
    const { values } = parseArgs({ args, allowPositionals: false, strict: true, options: { help: { type: 'boolean', short: 'h', default: false } } });
    return { help: values.help ?? false };
  } catch (error) {
    throw new ReelforgeError('bad_input', `reelforge ${name}: ${(error as Error).message}. Run "reelforge ${name} --help" for usage.`);
  }
}

export interface VideoCommand {
  help?: false;
  request: VideoRequest;
  out?: string;
  json: boolean;
  wantBible: boolean;
}

export interface RenderCommand {
  help?: false;
  /** The storyboard file. */
  file: string;
  out?: string;
  json: boolean;
  captions?: CaptionStyle;
}

/** Parses `storyboard` arguments: those of `video`, where `--out` names the JSON file and `--json` has no use. */
export async function parseStoryboardArgs(args: string[], readScript: (path: string) => Promise<string>): Promise<VideoCommand | { help: true }> {
  if (args.includes('--json')) throw new ReelforgeError('bad_input', 'reelforge storyboard writes JSON already: give --out FILE, or none for stdout.');
  return parseVideoArgs(args, readScript, 'storyboard');
}

/** Parses `render` arguments (`{ help: true }` for --help); throws ReelforgeError('bad_input') with a one-line reason. */
export function parseRenderArgs(args: string[]): RenderCommand | { help: true } {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        out: { type: 'string', short: 'o' },
        captions: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new ReelforgeError('bad_input', `${(error as Error).message}. Run "reelforge render --help" for usage.`);
  }
  if (parsed.values.help) return { help: true };
  const [file, ...extra] = parsed.positionals;
  if (file === undefined) throw new ReelforgeError('bad_input', 'Give the storyboard file to render, e.g. reelforge render tea.json (make one with reelforge storyboard).');
  if (extra.length > 0) throw new ReelforgeError('bad_input', `reelforge render takes one storyboard file, not ${parsed.positionals.length}.`);
  const captions = parsed.values.captions?.trim().toLowerCase();
  if (captions !== undefined && !isCaptionStyle(captions)) {
    throw badInput('captions', `Unknown caption style "${captions.slice(0, 20)}": use ${CAPTION_STYLES.join(', ')}.`);
  }
  return {
    file,
    ...(parsed.values.out !== undefined ? { out: parsed.values.out } : {}),
    json: parsed.values.json ?? false,
    ...(captions !== undefined ? { captions } : {}),
  };
}

/** Parses `video` arguments (`{ help: true }` for --help); throws ReelforgeError('bad_input') with a one-line reason. */
export async function parseVideoArgs(
  args: string[],
  readScript: (path: string) => Promise<string>,
  name: 'video' | 'storyboard' = 'video',
): Promise<VideoCommand | { help: true }> {
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
        captions: { type: 'string' },
        json: { type: 'boolean', default: false },
        bible: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new ReelforgeError('bad_input', `${(error as Error).message}. Run "reelforge ${name} --help" for usage.`);
  }
  if (parsed.values.help) return { help: true };
  const [duration, ...topicWords] = parsed.positionals;
  if (duration === undefined) {
    throw new ReelforgeError('bad_input', `Give a duration and a topic, e.g. reelforge ${name} 30 "The history of tea" (${MIN_DURATION_SEC}-${MAX_DURATION_SEC} s).`);
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
    ...(parsed.values.captions !== undefined ? { captions: parsed.values.captions } : {}),
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
  const print = (text: string): void => void process.stdout.write(`${text}\n`);
  try {
    switch (command) {
      case 'video': {
        const { readFile } = await import('node:fs/promises');
        const video = await parseVideoArgs(rest, (path) => readFile(path, 'utf8'));
        if (video.help) {
          print(COMMANDS.video.help);
          return 0;
        }
        const { runVideoCommand } = await import('./main.js');
        return await runVideoCommand(video);
      }
      case 'storyboard': {
        const { readFile } = await import('node:fs/promises');
        const storyboard = await parseStoryboardArgs(rest, (path) => readFile(path, 'utf8'));
        if (storyboard.help) {
          print(COMMANDS.storyboard.help);
          return 0;
        }
        const { runStoryboardCommand } = await import('./main.js');
        return await runStoryboardCommand(storyboard);
      }
      case 'render': {
        const render = parseRenderArgs(rest);
        if (render.help) {
          print(COMMANDS.render.help);
          return 0;
        }
        const { runRenderCommand } = await import('./main.js');
        return await runRenderCommand(render);
      }
      case 'bot':
      case 'worker': {
        if (parseNoArgs(command, rest).help) {
          print(COMMANDS[command].help);
          return 0;
        }
        const { runService } = await import('./main.js');
        return await runService(command);
      }
      case '-v':
      case '--version':
        if (rest.length > 0) throw new ReelforgeError('bad_input', `${command} takes no arguments. ${HELP_HINT}`);
        print(`reelforge ${await version()}`);
        return 0;
      case 'help':
      case '--help':
      case '-h': {
        // `reelforge help video` is `reelforge video --help`.
        const [topic, ...extra] = rest;
        if (extra.length > 0 || (topic !== undefined && !isCommand(topic))) {
          throw new ReelforgeError('bad_input', `No help for "${rest.join(' ')}". ${HELP_HINT}`);
        }
        print(topic !== undefined ? COMMANDS[topic].help : USAGE);
        return 0;
      }
      case undefined:
        console.error(USAGE);
        return 2;
      default:
        throw new ReelforgeError('bad_input', `Unknown command "${command}". ${HELP_HINT}`);
    }
  } catch (error) {
    const e = toReelforgeError(error);
    console.error(`reelforge: ${e.message}`);
    if (!isReelforgeError(error) || e.code === 'internal') console.error(error instanceof Error ? (error.stack ?? '') : String(error));
    return e.code === 'bad_input' || e.code === 'config' ? 2 : 1;
  }
}
