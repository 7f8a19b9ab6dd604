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
  /** A second instance on the same data while the first stays open (another process), where that is allowed. */
  sibling?: (store: SettingsStore) => Promise<SettingsStore>;
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

    it("keeps a chat's caption style for that chat only, and forgets it with auto", async () => {
      const store = await open();
      expect(await store.getCaptions('telegram', '-100')).toBeUndefined();
      await store.setCaptions('telegram', '-100', 'pop');
      expect(await store.getCaptions('telegram', '-100')).toBe('pop');
      expect(await store.getCaptions('telegram', '-200')).toBeUndefined();
      expect(await store.getCaptions('discord', '-100')).toBeUndefined();
      await store.setCaptions('telegram', '-100', 'clean');
      expect(await store.getCaptions('telegram', '-100')).toBe('clean');
      await store.setCaptions('telegram', '-100', 'auto');
      expect(await store.getCaptions('telegram', '-100')).toBeUndefined();
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

    const day = '2026-03-01';
    const job = (jobId: string, userId: string, usd: number, on = day) => ({ jobId, day: on, platform: 'telegram' as const, userId, usd });

    it('books reservations per user and for the day, and shows them', async () => {
      const store = await open();
      expect(await store.spend(day)).toEqual({ day, videos: 0, usd: 0, users: [] });
      expect(await store.reserve(job('j1', '1', 0.1), {})).toEqual({ ok: true, duplicate: false });
      expect(await store.reserve(job('j2', '1', 0.2), {})).toEqual({ ok: true, duplicate: false });
      expect(await store.reserve(job('j3', '2', 0.05), {})).toEqual({ ok: true, duplicate: false });
      // The same job again (a retried update) books nothing.
      expect(await store.reserve(job('j1', '1', 0.1), {})).toEqual({ ok: true, duplicate: true });
      const spend = await store.spend(day);
      expect(spend.videos).toBe(3);
      expect(spend.usd).toBeCloseTo(0.35, 9);
      const byUser = Object.fromEntries(spend.users.map((u) => [`${u.platform}:${u.userId}`, u]));
      expect(byUser['telegram:1']).toMatchObject({ videos: 2 });
      expect(byUser['telegram:1']?.usd).toBeCloseTo(0.3, 9);
      expect(byUser['telegram:2']).toMatchObject({ videos: 1 });
      // Another day is another ledger.
      expect(await store.spend('2026-03-02')).toEqual({ day: '2026-03-02', videos: 0, usd: 0, users: [] });
    });

    it('refuses past each limit, naming it, with what was used and the limit', async () => {
      const store = await open();
      expect(await store.reserve(job('a1', '1', 0.1), { userVideos: 1 })).toMatchObject({ ok: true });
      expect(await store.reserve(job('a2', '1', 0.1), { userVideos: 1 })).toEqual({ ok: false, limit: 'user_videos', used: 1, max: 1 });
      expect(await store.reserve(job('a3', '2', 0.1), { userVideos: 1 })).toMatchObject({ ok: true });
      // 0.1 + 0.2 fits a 0.3 limit exactly, despite floating point.
      expect(await store.reserve(job('b1', '3', 0.1), { userUsd: 0.3 })).toMatchObject({ ok: true });
      expect(await store.reserve(job('b2', '3', 0.2), { userUsd: 0.3 })).toMatchObject({ ok: true });
      const refused = await store.reserve(job('b3', '3', 0.01), { userUsd: 0.3 });
      expect(refused).toMatchObject({ ok: false, limit: 'user_usd', max: 0.3 });
      expect(refused.ok === false && refused.used).toBeCloseTo(0.3, 9);
      const overBudget = await store.reserve(job('c1', '4', 0.5), { budgetUsd: 0.9 });
      expect(overBudget).toMatchObject({ ok: false, limit: 'daily_budget', max: 0.9 });
      // A refused request books nothing.
      expect((await store.spend(day)).videos).toBe(4);
    });

    it('settles a reservation with the receipt and releases a failed one, once each', async () => {
      const store = await open();
      await store.reserve(job('s1', '1', 0.5), {});
      await store.reserve(job('s2', '1', 0.5), {});
      await store.settle('s1', 0.2);
      await store.settle('s1', 9); // a second settle changes nothing
      await store.release('s2');
      await store.release('s2');
      await store.settle('s2', 9); // nor does a settle after the release
      await store.release('unknown');
      const spend = await store.spend(day);
      expect(spend.videos).toBe(1);
      expect(spend.usd).toBeCloseTo(0.2, 9);
      expect(spend.users).toHaveLength(1);
      expect(spend.users[0]?.usd).toBeCloseTo(0.2, 9);
      // What a release gave back can be booked again.
      expect(await store.reserve(job('s3', '1', 0.8), { userUsd: 1, userVideos: 2 })).toMatchObject({ ok: true });
      expect(await store.reserve(job('s4', '1', 0.01), { userVideos: 2 })).toMatchObject({ ok: false, limit: 'user_videos' });
    });

    it('lets only one of two reservations made at once pass a budget that fits one', async () => {
      const store = await open();
      // With Redis the other instance is another process's client; the file store has one owner process.
      const other = harness.sibling ? await harness.sibling(store) : store;
      if (other !== store) opened.push(other);
      const outcomes = await Promise.all(
        Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? store : other).reserve(job(`r${i}`, String(i), 0.4), { budgetUsd: 0.5 })),
      );
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      expect(outcomes.filter((o) => !o.ok).every((o) => !o.ok && o.limit === 'daily_budget')).toBe(true);
      const spend = await other.spend(day);
      expect(spend.videos).toBe(1);
      expect(spend.usd).toBeCloseTo(0.4, 9);
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

      it('keeps the ledger in a second instance (a restart or another process)', async () => {
        const first = await open();
        await first.reserve(job('k1', '7', 0.25), {});
        await first.reserve(job('k2', '7', 0.25), {});
        await first.settle('k1', 0.1);
        const second = await reopen(first);
        opened.push(second);
        const spend = await second.spend(day);
        expect(spend.videos).toBe(2);
        expect(spend.usd).toBeCloseTo(0.35, 9);
        // The reservation survived too: releasing it in the second instance gives it back.
        await second.release('k2');
        expect((await second.spend(day)).usd).toBeCloseTo(0.1, 9);
        expect(await second.reserve(job('k3', '7', 0.1), { userVideos: 2 })).toMatchObject({ ok: true });
      });

      it('keeps overrides, usernames and counters in a second instance', async () => {
        const first = await open();
        await first.setTier({ kind: 'user', platform: 'telegram', userId: '7' }, 'quality');
        await first.setTier({ kind: 'chat', platform: 'telegram', chatId: '-100' }, 'balanced');
        await first.rememberUser('telegram', 'bob', '7');
        await first.setCaptions('telegram', '-100', 'pop');
        await first.record({ platform: 'telegram', userId: '7', outcome: 'completed', tokens: 99, costUsd: 0.5 });
        const second = await reopen(first);
        opened.push(second);
        expect(await second.getTier({ platform: 'telegram', userId: '7', chatId: '-100' })).toBe('quality');
        expect(await second.getTier({ platform: 'telegram', userId: '8', chatId: '-100' })).toBe('balanced');
        expect(await second.findUser('telegram', 'bob')).toBe('7');
        expect(await second.getCaptions('telegram', '-100')).toBe('pop');
        expect(await second.stats()).toMatchObject({ jobs: 1, completed: 1, tokens: 99, costUsd: 0.5, users: 1 });
      });
    }
  });
}
