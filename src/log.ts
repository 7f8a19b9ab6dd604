/**
 * The logger (pino): one JSON object a line on stderr (`time`, `level`, `msg`, then the fields and the
 * bindings of child loggers such as `jobId`), or a short human line when stderr is a terminal.
 * Every configured secret (bot tokens, API keys, the Redis password) is masked in the finished line,
 * so a token inside a URL, an error message, a cause or a nested field never reaches a log.
 */
import { pino, stdTimeFunctions, type Logger as PinoLogger } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `bindings` (e.g. jobId, platform, user, chat) to every line it writes. */
  child(bindings: LogFields): Logger;
}

export interface LoggerOptions {
  /** Human lines instead of JSON; defaults to whether stderr is a terminal (only when `write` is not given). */
  pretty?: boolean;
}

/**
 * `write` receives each finished line (no trailing newline); by default lines go to stderr, so stdout
 * stays free for command output such as `reelforge video --json`.
 */
export function createLogger(
  level: LogLevel,
  secrets: ReadonlyArray<string | undefined> = [],
  write?: (line: string) => void,
  options: LoggerOptions = {},
): Logger {
  const mask = secretMasker(secrets);
  const pretty = options.pretty ?? (write === undefined && process.stderr.isTTY === true);
  const out = write ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const destination = {
    write(chunk: string): void {
      const line = mask(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk);
      out(pretty ? prettyLine(line) : line);
    },
  };
  const root = pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => plainFields(object),
        bindings: (bindings) => plainFields(bindings),
      },
    },
    destination,
  );
  return wrap(root);
}

/** A logger that drops everything (benchmarks, tests that do not look at logs). */
export function silentLogger(): Logger {
  return createLogger('silent', [], () => undefined);
}

export interface LogEntry {
  level: Exclude<LogLevel, 'silent'>;
  msg: string;
  [field: string]: unknown;
}

/** The in-memory twin: keeps every parsed line, at every level, so tests can look at levels and fields. */
export function createMemoryLogger(secrets: ReadonlyArray<string | undefined> = []): Logger & { entries: LogEntry[]; lines: string[] } {
  const entries: LogEntry[] = [];
  const lines: string[] = [];
  const logger = createLogger('debug', secrets, (line) => {
    lines.push(line);
    entries.push(JSON.parse(line) as LogEntry);
  });
  return Object.assign(logger, { entries, lines });
}

function wrap(p: PinoLogger): Logger {
  const at =
    (level: Exclude<LogLevel, 'silent'>) =>
    (message: string, fields?: LogFields): void => {
      if (fields && Object.keys(fields).length > 0) p[level](fields, message);
      else p[level](message);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (bindings) => wrap(p.child(bindings)) };
}

/** Replaces each secret (at least 6 characters; shorter ones would star out ordinary words) and its JSON-escaped form. */
function secretMasker(secrets: ReadonlyArray<string | undefined>): (line: string) => string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < 6) continue;
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  // Longest first, so a secret that contains another is masked whole.
  const ordered = [...forms].sort((a, b) => b.length - a.length);
  return (line) => ordered.reduce((text, secret) => text.split(secret).join('***'), line);
}

/** Errors (anywhere in the fields) become plain objects: type, message, code, cause; JSON would drop them as `{}`. */
function plainFields(object: LogFields): LogFields {
  const seen = new WeakSet<object>();
  const plain = (value: unknown, depth: number): unknown => {
    if (value instanceof Error) {
      if (seen.has(value) || depth > 6) return `[${value.name}]`;
      seen.add(value);
      const code = (value as { code?: unknown }).code;
      const params = (value as { params?: unknown }).params;
      return {
        type: value.name,
        message: value.message,
        ...(code !== undefined ? { code } : {}),
        ...(params !== undefined ? { params: plain(params, depth + 1) } : {}),
        ...(value.cause !== undefined ? { cause: plain(value.cause, depth + 1) } : {}),
      };
    }
    if (Array.isArray(value)) return value.map((item) => plain(item, depth + 1));
    if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      if (seen.has(value) || depth > 6) return '[Circular]';
      seen.add(value);
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v, depth + 1)]));
    }
    return value;
  };
  return plain(object, 0) as LogFields;
}

const RESERVED = new Set(['time', 'level', 'msg', 'pid']);

/** `22:41:07.123 WARN  job failed  jobId=ab12 platform=telegram error={...}` for a person at a terminal. */
export function prettyLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : '';
  const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value) ?? '');
  const level = text(entry.level).toUpperCase().padEnd(5);
  const fields = Object.entries(entry)
    .filter(([key]) => !RESERVED.has(key))
    .map(([key, value]) => `${key}=${text(value)}`);
  return `${time} ${level} ${text(entry.msg)}${fields.length > 0 ? `  ${fields.join(' ')}` : ''}`;
}
