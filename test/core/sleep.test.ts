import { describe, expect, it } from 'vitest';
import { ReelforgeError, isReelforgeError } from '../../src/core/errors.js';
import { sleep } from '../../src/core/sleep.js';

describe('sleep', () => {
  it('resolves after the time without a signal', async () => {
    await expect(sleep(5)).resolves.toBeUndefined();
  });

  it('rejects with cancelled when the signal aborts while it waits', async () => {
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    controller.abort();
    const error: unknown = await waiting.catch((e: unknown) => e);
    expect(isReelforgeError(error) && error.code).toBe('cancelled');
  });

  it('rejects with the signal’s own error (a time limit) and at once when already aborted', async () => {
    const limit = new ReelforgeError('render_failed', 'took too long', { params: { reason: 'time_limit', limitMin: 1 } });
    const signal = AbortSignal.abort(limit);
    await expect(sleep(60_000, signal)).rejects.toBe(limit);
  });
});
