/**
 * The fake Discord keeps the rules of the real one that bots trip over. These specs pin them down
 * with plain HTTP and WebSocket, so the bot tests can trust what the fake says.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import { FakeDiscordServer, type InteractionRecord } from '../../fakes/discord-server.js';
import { waitFor } from '../../helpers/wait-for.js';

const TOKEN = 'bot-token';
const APP = '800000000000000001';
const GUILD = '700000000000000001';
const CHANNEL = '600000000000000001';
const user = { id: '310000000000000001', username: 'alice' };

let fake: FakeDiscordServer;
let api: string;

beforeAll(async () => {
  fake = await FakeDiscordServer.start({
    token: TOKEN,
    applicationId: APP,
    ackWindowMs: 300,
    tokenLifetimeMs: 600,
    attachmentLimitBytes: 1000,
    guilds: [{ id: GUILD, name: 'g', channels: [{ id: CHANNEL, name: 'videos' }] }],
  });
  api = `${fake.apiBase}/v10`;
});

afterAll(async () => {
  await fake.close();
});

const bot = { Authorization: `Bot ${TOKEN}` };
const json = { 'Content-Type': 'application/json' };

function interaction(): InteractionRecord {
  return fake.dispatchCommand({ name: 'video', from: { user }, guildId: GUILD, channelId: CHANNEL });
}

async function defer(record: InteractionRecord): Promise<Response> {
  return fetch(`${api}/interactions/${record.id}/${record.token}/callback`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ type: 5, data: {} }),
  });
}

function multipart(payload: unknown, bytes: number): FormData {
  const form = new FormData();
  form.append('payload_json', JSON.stringify(payload));
  form.append('files[0]', new Blob([Buffer.alloc(bytes, 7)], { type: 'video/mp4' }), 'clip.mp4');
  return form;
}

describe('REST', () => {
  test('GET /gateway/bot points at its own gateway and needs the bot token', async () => {
    const ok = await fetch(`${api}/gateway/bot`, { headers: bot });
    expect(await ok.json()).toMatchObject({ url: fake.gatewayUrl, shards: 1, session_start_limit: { max_concurrency: 1 } });
    const wrong = await fetch(`${api}/gateway/bot`, { headers: { Authorization: 'Bot nope' } });
    expect(wrong.status).toBe(401);
  });

  test('a callback answers 204 with no content type; a second one is refused', async () => {
    const record = interaction();
    const first = await defer(record);
    expect(first.status).toBe(204);
    expect(first.headers.get('content-type')).toBeNull();
    expect(await first.text()).toBe('');
    expect((await defer(record)).status).toBe(400);
    expect(fake.original(record.id)?.flags).toBe(128);
  });

  test('a callback after the acknowledgement window is 404 Unknown interaction (10062)', async () => {
    const record = interaction();
    await new Promise((r) => setTimeout(r, 350));
    const late = await defer(record);
    expect(late.status).toBe(404);
    expect(await late.json()).toEqual({ message: 'Unknown interaction', code: 10062 });
  });

  test('@original is reached as %40original, takes multipart uploads, and expires with the token (50027)', async () => {
    const record = interaction();
    await defer(record);
    const url = `${api}/webhooks/${APP}/${record.token}/messages/%40original`;
    const edit = await fetch(url, { method: 'PATCH', body: multipart({ content: 'here', attachments: [{ id: 0, filename: 'clip.mp4' }] }, 500) });
    expect(edit.status).toBe(200);
    const message = fake.original(record.id);
    expect(message?.content).toBe('here');
    expect(message?.attachments[0]).toMatchObject({ filename: 'clip.mp4', size: 500, content_type: 'video/mp4' });
    expect(message?.attachments[0]?.data.equals(Buffer.alloc(500, 7))).toBe(true);

    const tooBig = await fetch(url, { method: 'PATCH', body: multipart({ content: 'big' }, 1001) });
    expect(tooBig.status).toBe(413);
    expect(await tooBig.json()).toEqual({ message: 'Request entity too large', code: 40005 });

    await new Promise((r) => setTimeout(r, 650));
    const expired = await fetch(url, { method: 'PATCH', headers: json, body: JSON.stringify({ content: 'late' }) });
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual({ message: 'Invalid Webhook Token', code: 50027 });

    // The bot token can still edit the (non-ephemeral) response as a channel message.
    const viaChannel = await fetch(`${api}/channels/${CHANNEL}/messages/${message?.id}`, {
      method: 'PATCH',
      headers: { ...bot, ...json },
      body: JSON.stringify({ content: 'later' }),
    });
    expect(viaChannel.status).toBe(200);
    expect(fake.original(record.id)?.history.map((r) => r.via)).toEqual(['callback', 'webhook', 'channel']);
    // Tokens never reach the request log.
    expect(JSON.stringify(fake.requests)).not.toContain(record.token);
  });

  test('an injected 429 carries retry_after, the X-RateLimit headers and the global flag', async () => {
    fake.rateLimit({ path: /^\/channels\//, retryAfterSec: 1.5, global: true });
    const limited = await fetch(`${api}/channels/${CHANNEL}/messages`, { method: 'POST', headers: { ...bot, ...json }, body: '{"content":"x"}' });
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ retry_after: 1.5, global: true });
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(limited.headers.get('x-ratelimit-global')).toBe('true');
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    const next = await fetch(`${api}/channels/${CHANNEL}/messages`, { method: 'POST', headers: { ...bot, ...json }, body: '{"content":"x"}' });
    expect(next.status).toBe(200);
  });
});

describe('gateway', () => {
  test('HELLO, IDENTIFY → READY with user and application, GUILD_CREATE, heartbeat ACK', async () => {
    const ws = new WebSocket(`${fake.gatewayUrl}?v=10&encoding=json`);
    const received: Array<{ op: number; t?: string; d?: Record<string, unknown> }> = [];
    ws.on('message', (raw: Buffer) => received.push(JSON.parse(raw.toString()) as (typeof received)[number]));
    await new Promise((resolve) => ws.once('open', resolve));
    await waitFor('the gateway payloads', () => received.some((p) => p.op === 10));
    ws.send(JSON.stringify({ op: 2, d: { token: TOKEN, intents: 1, properties: {} } }));
    ws.send(JSON.stringify({ op: 1, d: null }));
    await waitFor('the gateway payloads', () => received.some((p) => p.t === 'GUILD_CREATE') && received.some((p) => p.op === 11));
    const ready = received.find((p) => p.t === 'READY');
    expect(ready?.d).toMatchObject({ application: { id: APP }, guilds: [{ id: GUILD, unavailable: true }] });
    expect(typeof (ready?.d?.user as { id?: unknown } | undefined)?.id).toBe('string');
    expect(received.find((p) => p.t === 'GUILD_CREATE')?.d).toMatchObject({ id: GUILD, unavailable: false });
    ws.close();
  });

  test('a wrong token in IDENTIFY closes with 4004', async () => {
    const ws = new WebSocket(fake.gatewayUrl);
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
    ws.send(JSON.stringify({ op: 2, d: { token: 'wrong' } }));
    expect(await closed).toBe(4004);
  });
});
