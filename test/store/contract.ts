/**
 * The settings store contract: every implementation (memory, file, Redis) runs these same specs.
 * `open` gives a fresh, empty store; `reopen`, when given, opens a second instance on the same
 * backing data (a restart, or another process).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SettingsStore } from '../../src/store/settings.js';

export interface SettingsStoreHarness {
  open(): Promise<SettingsStore>;
  reopen?: (store: SettingsStore) => Promise<SettingsStore>;
}

export function runSettingsStoreContract(name: string, harness: SettingsStoreHarness): void {
  describe(`${name} settings store`, () => {
    const opened: SettingsStore[] = [];
    const open = async (): Promise<SettingsStore> => {
      const store = await harness.open();
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
    });

    it('has no tier override at first', async () => {
      const store = await open();
      expect(await store.getTier({ platform: 'telegram', userId: '1', chatId: '-100' })).toBeUndefined();
    });

    it('applies a chat override to everyone in that chat only', async () => {
      const store = await open();
      await store.setTier({ kind: 'chat', platform: 'telegram', chatId: '-100' }, 'quality');
      expect(await store.getTier({ platform: 'telegram', userId: '1', chatId: '-100' })).toBe('quality');
      expect(await store.getTier({ platform: 'telegram', userId: '1', chatId: '-200' })).toBeUndefined();
      expect(await store.getTier({ platform: 'telegram', userId: '1' })).toBeUndefined();
      expect(await store.getTier({ platform: 'discord', userId: '1', chatId: '-100' })).toBeUndefined();
    });

    it('lets a user override beat a chat override', async () => {
      const store = await open();
      await store.setTier({ kind: 'chat', platform: 'telegram', chatId: '-100' }, 'quality');
      await store.setTier({ kind: 'user', platform: 'telegram', userId: '7' }, 'ultra_fast');
      expect(await store.getTier({ platform: 'telegram', userId: '7', chatId: '-100' })).toBe('ultra_fast');
      expect(await store.getTier({ platform: 'telegram', userId: '8', chatId: '-100' })).toBe('quality');
      expect(await store.getTier({ platform: 'telegram', userId: '7' })).toBe('ultra_fast');
    });

    it('removes an override with auto', async () => {
      const store = await open();
      await store.setTier({ kind: 'user', platform: 'discord', userId: '7' }, 'balanced');
      await store.setTier({ kind: 'user', platform: 'discord', userId: '7' }, 'auto');
      expect(await store.getTier({ platform: 'discord', userId: '7' })).toBeUndefined();
    });

    it('finds a remembered username case-insensitively, with or without @', async () => {
      const store = await open();
      await store.rememberUser('telegram', 'Alice_B', '42');
      expect(await store.findUser('telegram', '@alice_b')).toBe('42');
      expect(await store.findUser('telegram', 'ALICE_B')).toBe('42');
      expect(await store.findUser('discord', 'alice_b')).toBeUndefined();
      await store.rememberUser('telegram', 'alice_b', '43');
      expect(await store.findUser('telegram', 'alice_b')).toBe('43');
    });

    it('counts jobs, outcomes, tokens, cost and distinct users', async () => {
      const store = await open();
      expect(await store.stats()).toEqual({
        jobs: 0, completed: 0, failed: 0, cancelled: 0, tokens: 0, costUsd: 0, images: 0, videoSec: 0, users: 0,
      });
      await store.record({ platform: 'telegram', userId: '1', outcome: 'completed', tokens: 1200, costUsd: 0.0042, images: 6, videoSec: 30 });
      await store.record({ platform: 'telegram', userId: '1', outcome: 'failed', tokens: 300 });
      await store.record({ platform: 'discord', userId: '1', outcome: 'cancelled' });
      const stats = await store.stats();
      expect(stats).toMatchObject({ jobs: 3, completed: 1, failed: 1, cancelled: 1, tokens: 1500, images: 6, videoSec: 30, users: 2 });
      expect(stats.costUsd).toBeCloseTo(0.0042, 8);
    });

    it('keeps every count when records arrive at once', async () => {
      const store = await open();
      await Promise.all(
        Array.from({ length: 25 }, (_, i) => store.record({ platform: 'telegram', userId: String(i % 5), outcome: 'completed', tokens: 10 })),
      );
      expect(await store.stats()).toMatchObject({ jobs: 25, completed: 25, tokens: 250, users: 5 });
    });

    it('keeps an expiring document until its time is up, then forgets it', async () => {
      const store = await open();
      await store.putExpiring('storyboard:a', '{"title":"Tea"}', 60_000);
      await store.putExpiring('storyboard:b', 'short', 150);
      expect(await store.getExpiring('storyboard:a')).toBe('{"title":"Tea"}');
      expect(await store.getExpiring('storyboard:b')).toBe('short');
      expect(await store.getExpiring('storyboard:c')).toBeUndefined();
      // Polled, not slept: it must be gone within a few seconds of its expiry.
      const deadline = Date.now() + 5_000;
      while ((await store.getExpiring('storyboard:b')) !== undefined) {
        if (Date.now() > deadline) throw new Error('the expiring document outlived its time');
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(await store.getExpiring('storyboard:a')).toBe('{"title":"Tea"}');
      expect(await store.deleteExpiring('storyboard:b')).toBe(false);
    });

    it('replaces an expiring document and its expiry; of two deletes, one wins', async () => {
      const store = await open();
      await store.putExpiring('k', 'first', 150);
      await store.putExpiring('k', 'second', 60_000);
      expect(await store.getExpiring('k')).toBe('second');
      const deletes = await Promise.all([store.deleteExpiring('k'), store.deleteExpiring('k')]);
      expect(deletes.filter(Boolean)).toHaveLength(1);
      expect(await store.getExpiring('k')).toBeUndefined();
    });

    if (harness.reopen) {
      const reopen = harness.reopen;
      it('keeps expiring documents in a second instance', async () => {
        const first = await open();
        await first.putExpiring('storyboard:x', 'kept', 60_000);
        const second = await reopen(first);
        opened.push(second);
        expect(await second.getExpiring('storyboard:x')).toBe('kept');
      });

      it('keeps overrides, usernames and counters in a second instance', async () => {
        const first = await open();
        await first.setTier({ kind: 'user', platform: 'telegram', userId: '7' }, 'quality');
        await first.setTier({ kind: 'chat', platform: 'telegram', chatId: '-100' }, 'balanced');
        await first.rememberUser('telegram', 'bob', '7');
        await first.record({ platform: 'telegram', userId: '7', outcome: 'completed', tokens: 99, costUsd: 0.5 });
        const second = await reopen(first);
        opened.push(second);
        expect(await second.getTier({ platform: 'telegram', userId: '7', chatId: '-100' })).toBe('quality');
        expect(await second.getTier({ platform: 'telegram', userId: '8', chatId: '-100' })).toBe('balanced');
        expect(await second.findUser('telegram', 'bob')).toBe('7');
        expect(await second.stats()).toMatchObject({ jobs: 1, completed: 1, tokens: 99, costUsd: 0.5, users: 1 });
      });
    }
  });
}
