/**
 * The one place that imports ioredis. Connections come from REDIS_URL; the URL's password never
 * reaches a log line or an error message (`redactRedisUrl`).
 */
import { Redis, type RedisOptions } from 'ioredis';
import { ReelforgeError } from '../core/errors.js';

export type { Redis } from 'ioredis';

export interface RedisConnectionOptions {
  /**
   * For BullMQ workers, QueueEvents and subscribers: blocking commands must wait for a reconnect
   * instead of failing after 20 retries (`maxRetriesPerRequest: null`, which BullMQ requires).
   */
  blocking?: boolean;
  /** For plain commands: fail after this many reconnect tries instead of ioredis's 20 (fast answers in an outage). */
  maxRetriesPerRequest?: number;
  /** Shown in CLIENT LIST, which helps when several processes share a Redis. */
  name?: string;
  /** Where connection problems are reported (the process's logger, at warn); none by default. Lines are already redacted. */
  log?: (line: string) => void;
}

/** `redis://user:secret@host:6379/0` → `redis://user:***@host:6379/0`; unparsable text is hidden whole. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparsable REDIS_URL>';
  }
}

/** Removes any redis URL with credentials from free text (ioredis puts addresses in some messages). */
export function redactSecrets(text: string, url: string): string {
  let out = text.replace(/(rediss?:\/\/[^:/@\s]*:)[^@\s]+@/g, '$1***@');
  try {
    const password = new URL(url).password;
    if (password) out = out.split(decodeURIComponent(password)).join('***').split(password).join('***');
  } catch {
    // An unparsable URL has no password to hide beyond the pattern above.
  }
  return out;
}

export function createRedis(url: string, options: RedisConnectionOptions = {}): Redis {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ReelforgeError('config', 'REDIS_URL is not a URL such as redis://127.0.0.1:6379.');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ReelforgeError('config', `REDIS_URL must start with redis:// or rediss://, not ${parsed.protocol}//.`);
  }
  const log = options.log ?? (() => undefined);
  const redisOptions: RedisOptions = {
    ...(options.blocking ? { maxRetriesPerRequest: null } : options.maxRetriesPerRequest !== undefined ? { maxRetriesPerRequest: options.maxRetriesPerRequest } : {}),
    ...(options.name ? { connectionName: options.name } : {}),
    // Reconnect quickly at first, then every 2 s at most: a restarted Redis is back within seconds.
    retryStrategy: (times) => Math.min(100 * times, 2000),
  };
  const client = new Redis(url, redisOptions);
  // ioredis repeats the same error on every reconnect attempt; report each distinct one once a minute.
  const lastLogged = new Map<string, number>();
  client.on('error', (error: unknown) => {
    const message = redactSecrets(error instanceof Error ? error.message : String(error), url);
    const now = Date.now();
    if ((lastLogged.get(message) ?? 0) > now - 60_000) return;
    lastLogged.set(message, now);
    log(`redis ${redactRedisUrl(url)}: ${message}`);
  });
  return client;
}

/** Closes a connection without waiting on a dead server: QUIT when connected, otherwise disconnect. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // Fall through: the connection dropped while quitting.
    }
  }
  client.disconnect();
}
