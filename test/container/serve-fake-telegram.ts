/**
 * The container smoke test's Telegram: serves the fake Bot API on an address the containers reach,
 * sends one `/video` request once the bot calls, and waits for the video to be uploaded.
 *
 *   node bin/run-ts.mjs test/container/serve-fake-telegram.ts --host 172.17.0.1 --ready FILE
 *
 * Writes `{ "apiRoot", "token" }` to the ready file once listening, then prints one JSON line on
 * stdout: who uploaded the video (the caller's IP address, to tell the worker from the bot) and
 * what ffprobe says of it. Exits 1 when the bot never calls or no video arrives in time.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { FakeTelegramServer, type FakeUser } from '../fakes/telegram-server.js';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    ready: { type: 'string' },
    topic: { type: 'string', default: '/video 10 The history of tea' },
    'start-timeout': { type: 'string', default: '180' },
    'video-timeout': { type: 'string', default: '420' },
  },
});
if (!values.ready) {
  console.error('usage: serve-fake-telegram.ts --host IP --ready FILE');
  process.exit(2);
}

const started = Date.now();
const since = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const fake = await FakeTelegramServer.start({ host: values.host });
const scratch = await mkdtemp(join(tmpdir(), 'reelforge-smoke-'));
let code = 1;
try {
  await writeFile(values.ready, JSON.stringify({ apiRoot: fake.apiRoot, token: fake.token }));
  console.error(`fake Telegram: listening on ${fake.apiRoot}`);

  // The bot's first call (getMe at start-up; a long poll is logged only when answered). Updates wait
  // in the fake until the bot's long poll collects them.
  const first = await fake.waitFor(() => fake.calls[0], Number(values['start-timeout']) * 1000, 'the bot to call');
  console.error(`fake Telegram: ${first.method} from ${first.remoteAddress ?? '?'} (${since()})`);

  const user: FakeUser = { id: 4242, first_name: 'Smoke', language_code: 'en' };
  const chat = fake.privateChat(user);
  fake.sendUserMessage(chat, user, values.topic);
  const video = await fake.waitFor(
    () => fake.botMessages(chat.id).find((m) => m.upload?.method === 'sendVideo'),
    Number(values['video-timeout']) * 1000,
    'a sendVideo upload',
  );
  const upload = fake.calls.find((c) => c.method === 'sendVideo' && c.status === 200);
  const bytes = video.upload?.file('video')?.bytes;
  if (!bytes) throw new Error('sendVideo carried no video file');
  const path = join(scratch, 'video.mp4');
  await writeFile(path, bytes);
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height:format=duration', '-of', 'json', path]);
  const probe = JSON.parse(stdout) as { streams: Array<{ codec_name: string; width?: number; height?: number }>; format: { duration: string } };
  const progress = fake.botMessages(chat.id).find((m) => !m.upload);
  const result = {
    uploadedFrom: upload?.remoteAddress,
    botFrom: first.remoteAddress,
    seconds: Number(probe.format.duration),
    codecs: probe.streams.map((s) => s.codec_name).sort(),
    size: probe.streams.filter((s) => s.width).map((s) => `${s.width}x${s.height}`)[0],
    bytes: bytes.length,
    progressEdits: (progress?.versions.length ?? 1) - 1,
    caption: video.versions[0]?.caption,
    afterSec: Number(since().split(' ')[0]),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  code = 0;
} catch (error) {
  console.error(`fake Telegram: ${error instanceof Error ? error.message : String(error)} (${since()})`);
  const calls = fake.calls.map((c) => `${c.method} ${c.status} from ${c.remoteAddress ?? '?'}${c.description ? ` (${c.description})` : ''}`);
  console.error(`fake Telegram: calls so far:\n  ${calls.slice(-30).join('\n  ')}`);
} finally {
  await fake.close();
  await rm(scratch, { recursive: true, force: true });
}
process.exit(code);
