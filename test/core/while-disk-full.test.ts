import { describe, expect, it } from 'vitest';
import { whileDiskFull } from '../../src/core/while-disk-full.js';

function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error("ENOSPC: no space left on device, open 'data/queue/journal.jsonl.lock'"), { code: 'ENOSPC' });
}

describe('start-up work on a full disk', () => {
  it('waits out a full disk and carries on once it has room, saying why it waits', async () => {
    let calls = 0;
    const warnings: string[] = [];
    const result = await whileDiskFull(
      () => {
        calls++;
        return calls < 3 ? Promise.reject(enospc()) : Promise.resolve('opened');
      },
      { what: 'open the job queue', warn: (message) => warnings.push(message), firstDelayMs: 5 },
    );
    expect(result).toBe('opened');
    expect(calls).toBe(3);
    expect(warnings).toEqual(['the disk is full: could not open the job queue; trying again', 'the disk is full: could not open the job queue; trying again']);
  });

  it('rethrows any other failure at once, and a full disk once its time is up', async () => {
    let calls = 0;
    const other = await whileDiskFull(
      () => {
        calls++;
        return Promise.reject(new Error('EACCES'));
      },
      { what: 'open', warn: () => undefined, firstDelayMs: 5 },
    ).catch((error: unknown) => error);
    expect(other).toMatchObject({ message: 'EACCES' });
    expect(calls).toBe(1);
    const full = await whileDiskFull(() => Promise.reject(enospc()), { what: 'open', warn: () => undefined, firstDelayMs: 5, maxWaitMs: 30 }).catch(
      (error: unknown) => error,
    );
    expect(full).toMatchObject({ code: 'ENOSPC' });
  });
});
