import { createLogger, type Logger } from '../../src/log.js';

export interface LoggedLine {
  line: string;
  level: string;
  fields?: Record<string, unknown>;
}

/** A real logger (JSON lines, masking) whose lines are parsed into `logs` for assertions. */
export function loggerInto(logs: LoggedLine[], secrets: ReadonlyArray<string | undefined> = []): Logger {
  return createLogger('debug', secrets, (text) => {
    const { msg, level, time: _time, pid: _pid, ...fields } = JSON.parse(text) as Record<string, unknown>;
    logs.push({ line: String(msg), level: String(level), ...(Object.keys(fields).length > 0 ? { fields } : {}) });
  });
}
