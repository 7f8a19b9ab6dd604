import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSettingsStore } from '../../src/store/file-settings-store.js';
import { MemorySettingsStore } from '../../src/store/memory-settings-store.js';
import { RedisSettingsStore } from '../../src/redis/settings-store.js';
import type { SettingsStore } from '../../src/store/settings.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { runSettingsStoreContract } from './contract.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'reelforge-settings-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

runSettingsStoreContract('memory', { open: () => Promise.resolve(new MemorySettingsStore()) });

const fileDirs = new WeakMap<SettingsStore, string>();
runSettingsStoreContract('file', {
  open: async () => {
    const dir = await tempDir();
    const store = await FileSettingsStore.open(dir);
    fileDirs.set(store, dir);
    return store;
  },
  reopen: async (store) => {
    // A restart: the first instance is closed before the second reads the file.
    await store.close();
    return FileSettingsStore.open(fileDirs.get(store) ?? '');
  },
});

let redis: RedisServer;
const prefixes = new WeakMap<SettingsStore, string>();
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});
runSettingsStoreContract('redis', {
  open: () => {
    const prefix = `test-${randomUUID()}:`;
    const store = new RedisSettingsStore({ redis: redis.url, prefix });
    prefixes.set(store, prefix);
    return Promise.resolve(store);
  },
  // Another process: a second client on the same Redis, the first still open.
  reopen: (store) => Promise.resolve(new RedisSettingsStore({ redis: redis.url, prefix: prefixes.get(store) ?? '' })),
  sibling: (store) => Promise.resolve(new RedisSettingsStore({ redis: redis.url, prefix: prefixes.get(store) ?? '' })),
});

describe('file settings store on disk', () => {
  it('writes readable JSON and leaves no temp files behind', async () => {
    const dir = await tempDir();
    const store = await FileSettingsStore.open(dir);
    await Promise.all([
      store.setTier({ kind: 'chat', platform: 'telegram', chatId: '-5' }, 'quality'),
      store.record({ platform: 'telegram', userId: '1', outcome: 'completed', tokens: 5 }),
    ]);
    await store.close();
    expect(await readdir(dir)).toEqual(['settings.json']);
    const saved = JSON.parse(await readFile(join(dir, 'settings.json'), 'utf8')) as { tiers: Record<string, string> };
    expect(saved.tiers).toEqual({ 'chat:telegram:-5': 'quality' });
  });

  it('refuses a corrupt file with a config error instead of silently starting empty', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'settings.json'), '{ not json');
    await expect(FileSettingsStore.open(dir)).rejects.toMatchObject({ code: 'config' });
  });
});

describe('redis settings store failures', () => {
  it('reports an unreachable Redis as provider_unavailable without the URL', async () => {
    const store = new RedisSettingsStore({ redis: 'redis://:s3cret@127.0.0.1:1', prefix: 'x:' });
    try {
      const error = await store.getTier({ platform: 'telegram', userId: '1' }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'provider_unavailable', retryable: true });
      expect(String((error as Error).message)).not.toContain('s3cret');
    } finally {
      await store.close().catch(() => undefined);
    }
  });
});
