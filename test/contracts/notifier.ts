/**
 * What every chat Notifier must do, whatever the platform: the progress message never steps back to
 * "queued" once a job runs, a second end notice changes nothing, progress after the end is ignored,
 * and a deleted progress message is replaced once (not once per edit). Run against the fake Bot API
 * and the fake Discord server by test/bots/notifier-contract.test.ts:
 * `notifierContract('telegram', makeTelegramRig)`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatTarget } from '../../src/core/chat-target.js';
import { ReelforgeError } from '../../src/core/errors.js';
import { applyProgress, emptySnapshot, type ProgressEvent, type ProgressSnapshot } from '../../src/core/progress.js';
import type { Notifier } from '../../src/jobs/notifier.js';

/** A message the bot wrote in the job's chat, as the platform now shows it. */
export interface ShownMessage {
  id: string;
  /** Every text it showed, oldest first. */
  texts: string[];
  deleted: boolean;
}

export interface NotifierRig<T extends ChatTarget> {
  notifier: Notifier<T>;
  /** A new job's target with its progress message already posted (as the bot does on /video). */
  newTarget(): Promise<T>;
  /** The bot's messages for this target, oldest first, deleted ones included. */
  messages(target: T): ShownMessage[];
  /** Someone deletes the progress message in the chat. */
  deleteProgress(target: T): void;
  /** Resolves when every write scheduled so far was made. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

const queued = (position: number): ProgressSnapshot => applyProgress(emptySnapshot(), { type: 'queued', position, etaSec: 60 });

function running(...events: ProgressEvent[]): ProgressSnapshot {
  return events.reduce(applyProgress, applyProgress(emptySnapshot(), { type: 'started', offline: false, tier: 'ultra_fast' }));
}

export function notifierContract<T extends ChatTarget>(name: string, make: () => Promise<NotifierRig<T>>): void {
  describe(`Notifier contract: ${name}`, () => {
    let rig: NotifierRig<T>;
    beforeAll(async () => {
      rig = await make();
    });
    afterAll(async () => {
      await rig?.close();
    });

    const live = (target: T): ShownMessage[] => rig.messages(target).filter((m) => !m.deleted);
    const lastText = (target: T): string => live(target).at(-1)?.texts.at(-1) ?? '';

    it('shows the place in line, then the running stages, and never steps back to "queued"', async () => {
      const target = await rig.newTarget();
      await rig.notifier.progress(target, queued(3), 'job-1');
      await rig.settle();
      expect(lastText(target)).toMatch(/#3 in line/);
      await rig.notifier.progress(target, running({ type: 'stage', stage: 'script', status: 'running' }), 'job-1');
      await rig.settle();
      expect(lastText(target)).toMatch(/⏳ Script/);
      // A late place-in-line announcement (the queue and the worker race).
      await rig.notifier.progress(target, queued(1), 'job-1');
      await rig.settle();
      expect(lastText(target)).toMatch(/⏳ Script/);
      expect(rig.messages(target).flatMap((m) => m.texts).filter((t) => /in line/.test(t))).toHaveLength(1);
    });

    it('says an end once: a repeated failure notice changes nothing, and later progress is ignored', async () => {
      const target = await rig.newTarget();
      await rig.notifier.progress(target, running({ type: 'stage', stage: 'images', status: 'running' }, { type: 'count', stage: 'images', done: 1, total: 4 }), 'job-2');
      await rig.settle();
      const cancelled = new ReelforgeError('cancelled', 'The job was cancelled.');
      await rig.notifier.fail(target, cancelled);
      await rig.settle();
      const after = rig.messages(target).map((m) => m.texts.length);
      expect(lastText(target)).toMatch(/Cancelled/);
      await rig.notifier.fail(target, cancelled);
      await rig.notifier.progress(target, running({ type: 'stage', stage: 'images', status: 'running' }, { type: 'count', stage: 'images', done: 2, total: 4 }), 'job-2');
      await rig.settle();
      expect(rig.messages(target).map((m) => m.texts.length)).toEqual(after);
      expect(live(target)).toHaveLength(1);
    });

    it('replaces a deleted progress message once, not once per update, and tells the end there', async () => {
      const target = await rig.newTarget();
      await rig.notifier.progress(target, running({ type: 'stage', stage: 'script', status: 'running' }), 'job-3');
      await rig.settle();
      rig.deleteProgress(target);
      await rig.notifier.progress(target, running({ type: 'stage', stage: 'script', status: 'done' }), 'job-3');
      await rig.settle();
      await rig.notifier.progress(target, running({ type: 'stage', stage: 'script', status: 'done' }, { type: 'stage', stage: 'voice', status: 'running' }), 'job-3');
      await rig.settle();
      expect(live(target)).toHaveLength(1);
      expect(rig.messages(target)).toHaveLength(2);
      expect(lastText(target)).toMatch(/⏳ Voice/);
      await rig.notifier.fail(target, new ReelforgeError('render_failed', 'ffmpeg failed'));
      await rig.settle();
      expect(live(target)).toHaveLength(1);
      expect(lastText(target)).toMatch(/Making the video failed/);
    });
  });
}
