/** The soak's fault kinds on the fake OpenAI server, as a client on the wire sees them. */
import { Readable } from 'node:stream';
import type { ReadableStream as WebStream } from 'node:stream/web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenAiServer, type Fault } from './openai-server.js';

let fake: FakeOpenAiServer;
beforeAll(async () => {
  fake = await FakeOpenAiServer.start({ imageScale: 0.05 });
});
afterAll(async () => {
  await fake?.close();
});

const image = { model: 'gpt-image-1-mini', prompt: 'A lighthouse at dawn', size: '1024x1536', quality: 'low', output_format: 'png' };
const speech = { model: 'gpt-4o-mini-tts', voice: 'alloy', input: 'The first lighthouse stood on a rock.', response_format: 'wav' };

function post(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${fake.baseURL}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...(signal ? { signal } : {}) });
}

describe('fault kinds of the fake OpenAI server', () => {
  it('a fault plan is consulted when nothing is queued, and the fault is noted on the request', async () => {
    const planned: Fault = { kind: 'rate_limit', retryAfter: '1' };
    fake.faultPlan = (endpoint) => (endpoint === 'images' ? planned : undefined);
    try {
      const res = await post('/images/generations', image);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(fake.requests.at(-1)?.fault).toBe('rate_limit');
    } finally {
      fake.faultPlan = undefined;
    }
  });

  it('hang_before_headers sends nothing; hang_mid_body sends a 200 and part of the body', async () => {
    fake.inject('images', { kind: 'hang_before_headers' });
    await expect(post('/images/generations', image, AbortSignal.timeout(300))).rejects.toThrow();

    fake.inject('speech', { kind: 'hang_mid_body' });
    const res = await post('/audio/speech', speech, AbortSignal.timeout(1500));
    expect(res.status).toBe(200);
    const length = Number(res.headers.get('content-length'));
    let received = 0;
    const read = (async () => {
      const body = Readable.fromWeb(res.body as WebStream<Uint8Array>);
      for await (const chunk of body) received += (chunk as Buffer).length;
    })();
    await expect(read).rejects.toThrow();
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(length);
  });

  it('invalid_json cuts the JSON; garbage_image sends bytes that are no picture; silent_speech is all zeros', async () => {
    fake.inject('images', { kind: 'invalid_json' });
    const cut = await post('/images/generations', image);
    expect(cut.status).toBe(200);
    const text = Buffer.from(await cut.arrayBuffer()).toString('utf8');
    expect(() => JSON.parse(text) as unknown).toThrow();

    fake.inject('images', { kind: 'garbage_image' });
    const garbage = (await (await post('/images/generations', image)).json()) as { data: Array<{ b64_json: string }> };
    const bytes = Buffer.from(garbage.data[0]!.b64_json, 'base64');
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes.subarray(0, 4).toString('latin1')).not.toBe('\x89PNG');

    const normal = Buffer.from(await (await post('/audio/speech', speech)).arrayBuffer());
    fake.inject('speech', { kind: 'silent_speech' });
    const silent = Buffer.from(await (await post('/audio/speech', speech)).arrayBuffer());
    expect(silent.length).toBe(normal.length);
    expect(normal.subarray(44).some((b) => b !== 0)).toBe(true);
    expect(silent.subarray(44).every((b) => b === 0)).toBe(true);
  });
});
