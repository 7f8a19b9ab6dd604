/**
 * The check a storyboard's script call gets (admitSpend): the same allow-lists and daily limits as a
 * video at enqueue, read from the settings store's ledger, booking nothing.
 */
import { describe, expect, it } from 'vitest';
import { admitSpend, type AccessPolicy } from '../../src/access/admission.js';
import type { ReelforgeError } from '../../src/core/errors.js';
import { MemorySettingsStore } from '../../src/store/memory-settings-store.js';

const NOW = new Date('2026-03-01T21:30:00Z');
const policy = (over: Partial<AccessPolicy> = {}): AccessPolicy => ({ adminIds: new Set(['telegram:9']), allowedUsers: null, allowedChats: null, limits: {}, ...over });
const ann = { platform: 'telegram' as const, userId: '1', chatId: '100' };

async function refusal(promise: Promise<void>): Promise<ReelforgeError | undefined> {
  return promise.then(() => undefined, (error: unknown) => error as ReelforgeError);
}

describe('admitSpend', () => {
  it('refuses outside the allow-lists, but never an admin', async () => {
    const settings = new MemorySettingsStore();
    const closed = policy({ allowedUsers: new Set(['telegram:2']) });
    expect(await refusal(admitSpend(ann, 0.01, { settings, policy: closed, now: () => NOW }))).toMatchObject({ code: 'not_allowed' });
    expect(await refusal(admitSpend({ platform: 'telegram', userId: '9' }, 0.01, { settings, policy: closed, now: () => NOW }))).toBeUndefined();
  });

  it('refuses when the user has had today’s videos or the spend would pass a limit, and books nothing', async () => {
    const settings = new MemorySettingsStore();
    await settings.reserve({ jobId: 'j1', day: '2026-03-01', platform: 'telegram', userId: '1', usd: 0.3 }, {});
    const before = await settings.spend('2026-03-01');
    expect(await refusal(admitSpend(ann, 0.01, { settings, policy: policy({ limits: { userVideos: 1 } }), now: () => NOW }))).toMatchObject({
      code: 'daily_limit',
      params: { limit: 'user_videos', max: 1, used: 1, resetsInMin: 150 },
    });
    expect(await refusal(admitSpend(ann, 0.25, { settings, policy: policy({ limits: { userUsd: 0.5 } }), now: () => NOW }))).toMatchObject({ params: { limit: 'user_usd' } });
    expect(await refusal(admitSpend(ann, 0.25, { settings, policy: policy({ limits: { budgetUsd: 0.5 } }), now: () => NOW }))).toMatchObject({ params: { limit: 'daily_budget' } });
    expect(await refusal(admitSpend(ann, 0.1, { settings, policy: policy({ limits: { userVideos: 2, userUsd: 0.5, budgetUsd: 1 } }), now: () => NOW }))).toBeUndefined();
    expect(await settings.spend('2026-03-01')).toEqual(before);
  });
});
