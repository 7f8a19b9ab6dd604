/**
 * A small structured logger on stderr. It masks every configured secret (bot tokens, API keys)
 * wherever it appears in a line, so a token inside a URL or an error message never reaches a log.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(
  level: LogLevel,
  secrets: ReadonlyArray<string | undefined> = [],
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Logger {
  const masks = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 6);
  const redact = (text: string): string => masks.reduce((out, secret) => out.split(secret).join('***'), text);
  const log =
    (at: Exclude<LogLevel, 'silent'>) =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (ORDER[at] < ORDER[level]) return;
      const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields, errorReplacer)}` : '';
      write(redact(`${new Date().toISOString()} ${at.toUpperCase().padEnd(5)} ${message}${extra}`));
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(code !== undefined ? { code } : {}) };
  }
  return value;
}
