import { loggerInto, type LoggedLine } from '../../helpers/logs.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TelegramNotifier } from '../../../src/bots/telegram/notifier.js';
import type { TelegramTarget } from '../../../src/core/chat-target.js';
import { ReelforgeError, cancelled } from '../../../src/core/errors.js';
import { applyProgress, emptySnapshot, type ProgressEvent, type ProgressSnapshot } from '../../../src/core/progress.js';
import type { Receipt } from '../../../src/core/receipt.js';
import { FakeTelegramServer, type FakeChat } from '../../fakes/telegram-server.js';
import { alice } from './harness.js';

let fake: FakeTelegramServer;
let dir: string;
beforeAll(async () => {
  fake = await FakeTelegramServer.start();
  dir = await mkdtemp(join(tmpdir(), 'reelforge-notifier-'));
});
afterAll(async () => {
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});

function snapshotAfter(events: ProgressEvent[]): ProgressSnapshot {
  return events.reduce(applyProgress, emptySnapshot());
}

const running = (done: number, total = 10): ProgressSnapshot =>
  snapshotAfter([
    { type: 'started', offline: false, tier: 'balanced' },
    { type: 'stage', stage: 'script', status: 'done' },
    { type: 'count', stage: 'images', done, total },
  ]);

/** A chat with the user's request and the bot's first progress message, as the bot leaves it. */
async function progressTarget(chat: FakeChat, notifier: TelegramNotifier): Promise<TelegramTarget> {
  const request = fake.sendUserMessage(chat, alice, '/video 30 tea');
  const sent = await notifier.api.sendMessage(chat.id, '⏳ Got it, queuing your video…', {
    reply_parameters: { message_id: request.messageId },
  });
  return { platform: 'telegram', chatId: chat.id, replyToMessageId: request.messageId, progressMessageId: sent.message_id, locale: 'en' };
}

function versionsOf(target: TelegramTarget): string[] {
  return (fake.message(target.chatId, target.progressMessageId ?? 0)?.versions ?? []).map((v) => v.text ?? '');
}

describe('TelegramNotifier progress', () => {
  it('shows the latest snapshot and drops the ones in between, at most one edit a second in a private chat', async () => {
    const logs: LoggedLine[] = [];
    const notifier = new TelegramNotifier({ token: fake.token, apiRoot: fake.apiRoot, log: loggerInto(logs) });
    const target = await progressTarget(fake.privateChat({ ...alice, id: 5001 }), notifier);
    fake.minEditIntervalMs = 950;
    try {
      for (let i = 1; i <= 10; i++) await notifier.progress(target, running(i), 'j000000000001');
      await notifier.idle();
    } finally {
      fake.minEditIntervalMs = undefined;
    }
    const versions = versionsOf(target);
    // The first snapshot at once, then the newest one a second later: 2 edits, not 10.
    expect(versions).toHaveLength(3);
    expect(versions[1]).toContain('⏳ Images 1/10');
    expect(versions[2]).toContain('⏳ Images 10/10');
    expect(versions[2]).toMatch(/▰+▱* \d+%/);
    expect(fake.rateLimitedEdits).toBe(0);
    expect(logs).toEqual([]);
  });

  it('spaces calls to a group at least 3 s apart by default', async () => {
    const notifier = new TelegramNotifier({ token: fake.token, apiRoot: fake.apiRoot });
    const group = fake.group(-5002, 'Pace', { supergroup: true });
    const target = await progressTarget(group, notifier);
    await notifier.progress(target, running(1), 'j000000000002');
    await new Promise((r) => setTimeout(r, 50));
    await notifier.progress(target, running(2), 'j000000000002');
    await notifier.idle();
    const edits = fake.message(group.id, target.progressMessageId ?? 0)?.versions.slice(1) ?? [];
    expect(edits).toHaveLength(2);
    expect(edits[1]!.at - edits[0]!.at).toBeGreaterThanOrEqual(2950);
  });

  it('never steps back from a running view to a place in line', async () => {
    const notifier = new TelegramNotifier({ token: fake.token, apiRoot: fake.apiRoot, minIntervalMs: { private: 0, group: 0 } });
    const target = await progressTarget(fake.privateChat({ ...alice, id: 5003 }), notifier);
    await notifier.progress(target, running(3), 'j000000000003');
    await notifier.progress(target, snapshotAfter([{ type: 'queued', position: 2, etaSec: 90 }]), 'j000000000003');
    await notifier.idle();
    expect(versionsOf(target).at(-1)).toContain('Images 3/10');
  });

  it('treats "message is not modified" as done, and waits out a 429 within the bound', async () => {
    const logs: LoggedLine[] = [];
    const notifier = new TelegramNotifier({ token: fake.token, apiRoot: fake.apiRoot, log: loggerInto(logs), minIntervalMs: { private: 0, group: 0 } });
    const target = await progressTarget(fake.privateChat({ ...alice, id: 5004 }), notifier);
    await notifier.progress(target, running(4), 'j000000000004');
    await notifier.idle();
    // A second process (a fresh notifier) sends the same view: Telegram says "not modified".
    const other = new TelegramNotifier({ token: fake.token, apiRoot: fake.apiRoot, log: loggerInto(logs) });
    await other.progress(target, running(4), 'j000000000004');
    await other.idle();
    expect(fake.calls.at(-1)?.description).toMatch(/^Bad Request: message is not modified/);

    fake.tooManyRequests('editMessageText', 1);
    const started = Date.now();
    await notifier.progress(target, running(5), 'j000000000004');
    await notifier.idle();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(versionsOf(target).at(-1)).toContain('Images 5/10');
    expect(logs).toEqual([]);
  });
});

describe('TelegramNotifier delivery and failure', () => {
  const receipt: Receipt = {
    output: '', title: 'Tea', durationSec: 10, width: 270, height: 480, sizeBytes: 0, tier: 'ultra_fast', segments: 2, offline: false,
    lang: 'en', llm: { calls: 1, promptTokens: 10, completionTokens: 5, totalTokens: 15 }, images: { generated: 2, reused: 0 },
    ttsCharacters: 10, costUsd: 0.0123, timingsMs: {},
  };

  it('turns a 413 from sendVideo into too_large with the limit', async () => {
    const path = join(dir, 'big.mp4');
    await writeFile(path, Buffer.alloc(64 * 1024, 1));
    const notifier = new TelegramNotifier({ token: fake.token, apiRoot: fake.apiRoot, uploadLimitBytes: 20 * 1024 * 1024 });
    const target = await progressTarget(fake.privateChat({ ...alice, id: 5005 }), notifier);
    fake.uploadLimitBytes = 32 * 1024;
    try {
      await expect(notifier.deliver(target, { path, receipt })).rejects.toMatchObject({ code: 'too_large', params: { limitBytes: 20 * 1024 * 1024 } });
    } finally {
      fake.uploadLimitBytes = 50 * 1024 * 1024;
    }
    expect(notifier.uploadLimitBytes(target)).toBe(20 * 1024 * 1024);
  });

  it('gives up on a 429 that asks for longer than 30 s, as a retryable error', async () => {
    const path = join(dir, 'small.mp4');
    await writeFile(path, Buffer.alloc(1024, 1));
    const notifier = new TelegramNotifier({ token: fake.token, apiRoot: fake.apiRoot });
    const target = await progressTarget(fake.privateChat({ ...alice, id: 5006 }), notifier);
    fake.tooManyRequests('sendVideo', 120);
    const started = Date.now();
    await expect(notifier.deliver(target, { path, receipt })).rejects.toMatchObject({ code: 'provider_unavailable', retryable: true });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a failed "done" edit after the upload (a 429 past the retry bound) never fails the delivery; the edit is made again later', async () => {
    // A 5xx takes the same path once the API client's own retries (3 s, 6 s, 12 s, 24 s) are spent.
    const path = join(dir, 'done-edit.mp4');
    await writeFile(path, Buffer.alloc(1024, 1));
    const logs: LoggedLine[] = [];
    const notifier = new TelegramNotifier({ token: fake.token, apiRoot: fake.apiRoot, minIntervalMs: { private: 0, group: 0 }, log: loggerInto(logs) });
    const chat = fake.privateChat({ ...alice, id: 5010 });
    const target = await progressTarget(chat, notifier);
    fake.tooManyRequests('editMessageText', 120);
    await notifier.deliver(target, { path, receipt });
    expect(fake.botMessages(chat.id).filter((m) => m.upload)).toHaveLength(1);
    await fake.waitFor(() => fake.calls.some((c) => c.method === 'editMessageText' && c.status === 429) || undefined, 10_000, 'the refused done edit');
    await fake.waitFor(() => (versionsOf(target).some((t) => /Done/.test(t)) ? true : undefined), 15_000, 'the done edit, made again');
    expect(logs.some((l) => /trying again later/.test(l.line))).toBe(true);
  }, 30_000);

  it('resolves the delivery once the video is sent, while the "done" edit still waits out a 429', async () => {
    const path = join(dir, 'done-later.mp4');
    await writeFile(path, Buffer.alloc(1024, 1));
    const notifier = new TelegramNotifier({ token: fake.token, apiRoot: fake.apiRoot, minIntervalMs: { private: 0, group: 0 } });
    const chat = fake.privateChat({ ...alice, id: 5011 });
    const target = await progressTarget(chat, notifier);
    fake.tooManyRequests('editMessageText', 3);
    await notifier.deliver(target, { path, receipt });
    // The video is in the chat and the job may record it; the edit is still waiting for its retry_after.
    expect(fake.botMessages(chat.id).filter((m) => m.upload)).toHaveLength(1);
    expect(versionsOf(target).some((t) => /Done/.test(t))).toBe(false);
    await fake.waitFor(() => (versionsOf(target).some((t) => /Done/.test(t)) ? true : undefined), 15_000, 'the done edit after its wait');
  }, 30_000);

  it('stops an upload when the job is cancelled', async () => {
    const path = join(dir, 'cancelled.mp4');
    await writeFile(path, Buffer.alloc(1024, 1));
    const notifier = new TelegramNotifier({ token: fake.token, apiRoot: fake.apiRoot });
    const chat = fake.privateChat({ ...alice, id: 5009 });
    const target = await progressTarget(chat, notifier);
    const controller = new AbortController();
    controller.abort(cancelled());
    await expect(notifier.deliver(target, { path, receipt }, controller.signal)).rejects.toMatchObject({ code: 'cancelled' });
    expect(fake.botMessages(chat.id).filter((m) => m.upload)).toEqual([]);
  });

  it('writes a failure into the progress message, or a new message when it was deleted', async () => {
    const notifier = new TelegramNotifier({ token: fake.token, apiRoot: fake.apiRoot, minIntervalMs: { private: 0, group: 0 } });
    const chat = fake.privateChat({ ...alice, id: 5007 });
    const target = await progressTarget(chat, notifier);
    await notifier.fail(target, new ReelforgeError('provider_unavailable', 'x', { retryable: true }));
    expect(versionsOf(target).at(-1)).toBe('An AI service I use could not be reached. Please try again in a little while.');

    const second = await progressTarget(chat, notifier);
    fake.deleteAsUser(chat.id, second.progressMessageId ?? 0);
    await notifier.fail(second, new ReelforgeError('content_policy', 'x'));
    const last = fake.botMessages(chat.id).at(-1);
    expect(last?.versions[0]?.text).toBe('That topic was refused by the content policy. Please try a different topic.');
    expect(last?.replyToMessageId).toBe(second.replyToMessageId);
  });

  it('never puts the token in an error or a log line', async () => {
    const logs: LoggedLine[] = [];
    const badToken = '999:SECRET-token-value';
    const notifier = new TelegramNotifier({ token: badToken, apiRoot: fake.apiRoot, log: loggerInto(logs) });
    const target: TelegramTarget = { platform: 'telegram', chatId: 5008, progressMessageId: 1, locale: 'en' };
    await notifier.progress(target, running(1), 'j000000000008');
    await notifier.idle();
    const path = join(dir, 'small.mp4');
    const error = await notifier.deliver(target, { path, receipt }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReelforgeError);
    expect(JSON.stringify((error as ReelforgeError).toJSON())).not.toContain('SECRET');
    expect(logs.length).toBeGreaterThan(0);
    expect(JSON.stringify(logs)).not.toContain('SECRET');
  });
});
