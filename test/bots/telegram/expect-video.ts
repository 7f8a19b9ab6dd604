/** Checks an uploaded video the way a player would: fields sent, a JPEG thumbnail, and ffprobe on the bytes. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { StoredMessage } from '../../fakes/telegram-server.js';
import { probeMedia } from '../../helpers/ffprobe.js';

export async function expectPlayableVideo(video: StoredMessage, seconds: number, dir: string): Promise<void> {
  const upload = video.upload;
  expect(upload?.method).toBe('sendVideo');
  expect(upload?.fields).toMatchObject({ width: '270', height: '480', duration: String(seconds), supports_streaming: 'true' });
  const bytes = upload?.file('video')?.bytes;
  expect(upload?.file('thumbnail')?.bytes.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8])); // a JPEG
  expect(bytes).toBeDefined();
  const path = join(dir, `uploaded-${video.chatId}-${video.messageId}.mp4`);
  await writeFile(path, bytes ?? Buffer.alloc(0));
  const info = await probeMedia(path);
  expect(info.durationSec).toBeGreaterThan(seconds - 0.3);
  expect(info.durationSec).toBeLessThan(seconds + 0.3);
  expect(info.video).toEqual({ codec: 'h264', width: 270, height: 480 });
  expect(info.audio).toEqual({ codec: 'aac' });
}
