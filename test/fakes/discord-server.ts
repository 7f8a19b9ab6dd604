/**
 * A fake Discord: the REST API (under /api/v10) and a minimal gateway, on one 127.0.0.1 port.
 * discord.js and @discordjs/rest talk to it unchanged through `rest: { api: fake.apiBase }`; the
 * gateway URL comes from GET /gateway/bot, as with the real service.
 *
 * It keeps Discord's rules that bots trip over: 204 replies without a content type, `%40original`
 * in webhook paths, the 3 s acknowledgement window (404 code 10062), the 15 min interaction token
 * (401 code 50027), the attachment size limit (413 code 40005), 429s with `retry_after`, and READY
 * with `user` and `application` followed by GUILD_CREATE for every listed guild.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import busboy from 'busboy';
import { WebSocketServer, type WebSocket } from 'ws';

const DISCORD_EPOCH = 1420070400000n;
const MiB = 1024 * 1024;

export interface FakeUser {
  id: string;
  username: string;
  global_name?: string | null;
  bot?: boolean;
}

export interface FakeChannel {
  id: string;
  name: string;
}

export interface FakeGuild {
  id: string;
  name: string;
  channels: FakeChannel[];
}

export interface FakeDiscordOptions {
  token: string;
  applicationId: string;
  botUser?: FakeUser;
  guilds?: FakeGuild[];
  /** Discord's acknowledgement window for an interaction (3 s). */
  ackWindowMs?: number;
  /** Lifetime of an interaction token (15 min). */
  tokenLifetimeMs?: number;
  /** Largest accepted attachment, per request (10 MiB, the default for bots). */
  attachmentLimitBytes?: number;
  heartbeatIntervalMs?: number;
}

export interface StoredAttachment {
  id: string;
  filename: string;
  size: number;
  content_type: string;
  url: string;
  data: Buffer;
}

export interface MessageRevision {
  at: number;
  /** How the message was written: through the interaction webhook, a channel request, or a component update. */
  via: 'callback' | 'webhook' | 'channel' | 'update';
  content: string;
  components: unknown[];
  attachments: string[];
}

export interface StoredMessage {
  id: string;
  channel_id: string;
  guild_id?: string;
  content: string;
  components: unknown[];
  embeds: unknown[];
  attachments: StoredAttachment[];
  flags: number;
  webhook_id?: string;
  /** The interaction this message answers, when it is an interaction response or followup. */
  interactionId?: string;
  timestamp: string;
  edited_timestamp: string | null;
  history: MessageRevision[];
}

export interface InteractionRecord {
  id: string;
  token: string;
  type: 2 | 3 | 5;
  createdAt: number;
  channelId: string;
  guildId?: string;
  userId: string;
  /** When the first callback arrived, and its type (4, 5, 6 or 7). */
  acknowledgedAt?: number;
  callbackType?: number;
  /** The @original message, once a callback created or chose it. */
  originalMessageId?: string;
  /** For button presses: the message the button is on. */
  sourceMessageId?: string;
  /** Callbacks that arrived (the second and later are refused with 400 code 40060). */
  callbacks: Array<{ at: number; type: number; data: unknown }>;
}

export interface RequestRecord {
  at: number;
  method: string;
  path: string;
  status: number;
  /** Whether a bot token was sent; webhook and callback requests are made without one. */
  authorized: boolean;
}

export interface RateLimitRule {
  method?: string;
  /** Matched against the path after /api/v10. */
  path: RegExp;
  retryAfterSec: number;
  global?: boolean;
  /** How many matching requests get a 429 (then the rule is spent). */
  times?: number;
}

export interface CommandOption {
  name: string;
  type: number;
  value?: string | number | boolean;
  options?: CommandOption[];
}

export interface InteractionUser {
  user: FakeUser;
  /** Permissions of the member in the channel, as a decimal bit string. */
  permissions?: string;
}

interface CommonDispatch {
  from: InteractionUser;
  guildId?: string;
  channelId: string;
  locale?: string;
  /** Sent as `attachment_size_limit`, which discord.js exposes as `interaction.attachmentSizeLimit`. */
  attachmentSizeLimit?: number;
  /** Pretend the interaction was created this long ago (a gateway backlog): its windows run from then. */
  ageMs?: number;
}

export interface CommandDispatch extends CommonDispatch {
  name: string;
  options?: CommandOption[];
  /** Resolved users/channels for USER (6) and CHANNEL (7) options. */
  resolved?: { users?: Record<string, FakeUser>; channels?: Record<string, { id: string; name: string; type: number }> };
}

export interface ButtonDispatch extends CommonDispatch {
  customId: string;
  messageId: string;
}

type Json = Record<string, unknown>;

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: Json,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body.message === 'string' ? body.message : String(status));
  }
}

const everyone = (guildId: string) => ({
  id: guildId,
  name: '@everyone',
  permissions: '1071698660929',
  position: 0,
  color: 0,
  hoist: false,
  managed: false,
  mentionable: false,
  flags: 0,
});

export class FakeDiscordServer {
  readonly options: Required<Omit<FakeDiscordOptions, 'botUser' | 'guilds'>> & { botUser: FakeUser; guilds: FakeGuild[] };
  readonly commands = { global: [] as Json[], guild: new Map<string, Json[]>() };
  readonly messages = new Map<string, StoredMessage>();
  readonly interactions = new Map<string, InteractionRecord>();
  /** Every REST request, with webhook and interaction tokens masked in the logged path. */
  readonly requests: RequestRecord[] = [];
  readonly gatewayLog: Array<{ at: number; op: number; t?: string }> = [];
  /** What each client asked for in IDENTIFY (the token left out). */
  readonly identifies: Array<{ intents: number; shard?: unknown }> = [];
  private readonly rateLimits: RateLimitRule[] = [];
  private readonly failures: Array<{ method?: string; path: RegExp; status: number; code: number; message: string; times: number }> = [];
  private readonly sockets = new Set<WebSocket>();
  private readonly waiters = new Set<() => void>();
  private sequence = 0;
  private idCounter = 0n;
  private http!: Server;
  private wss!: WebSocketServer;
  port = 0;

  private constructor(options: FakeDiscordOptions) {
    this.options = {
      ackWindowMs: 3000,
      tokenLifetimeMs: 15 * 60_000,
      attachmentLimitBytes: 10 * MiB,
      heartbeatIntervalMs: 41_250,
      botUser: { id: '900000000000000001', username: 'reelforge', bot: true },
      guilds: [],
      ...options,
    };
  }

  static async start(options: FakeDiscordOptions): Promise<FakeDiscordServer> {
    const fake = new FakeDiscordServer(options);
    await fake.listen();
    return fake;
  }

  /** What DISCORD_API_BASE is set to: the origin plus /api (the client appends /v10). */
  get apiBase(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Makes the next matching requests fail with this status and Discord error body (e.g. 400 50035, 403 50001). */
  failNext(rule: { method?: string; path: RegExp; status: number; code: number; message: string; times?: number }): void {
    this.failures.push({ times: 1, ...rule });
  }

  /** Drops every failure rule still armed. */
  clearFailures(): void {
    this.failures.splice(0);
  }

  /** Makes the next matching requests fail with 429. */
  rateLimit(rule: RateLimitRule): void {
    this.rateLimits.push({ times: 1, ...rule });
  }

  /** Ages an interaction so that its token has expired (or its ack window passed). */
  ageInteraction(id: string, byMs: number): void {
    const record = this.interactions.get(id);
    if (record) record.createdAt -= byMs;
  }

  /** Messages in a channel, oldest first (interaction responses included). */
  channelMessages(channelId: string): StoredMessage[] {
    return [...this.messages.values()].filter((m) => m.channel_id === channelId);
  }

  original(interactionId: string): StoredMessage | undefined {
    const id = this.interactions.get(interactionId)?.originalMessageId;
    return id ? this.messages.get(id) : undefined;
  }

  /** Resolves when `check` returns a value (re-checked after every request and gateway event). */
  async waitFor<T>(check: () => T | undefined | false | null, timeoutMs = 10_000, what = 'condition'): Promise<T> {
    const first = check();
    if (first) return first;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const waiter = (): void => {
        const value = check();
        if (value) {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(value);
        }
      };
      this.waiters.add(waiter);
    });
  }

  /** Sends INTERACTION_CREATE for a chat-input (slash) command to every identified gateway client. */
  dispatchCommand(input: CommandDispatch): InteractionRecord {
    const data: Json = {
      id: this.commandId(input.name, input.guildId),
      name: input.name,
      type: 1,
      options: input.options ?? [],
      ...(input.resolved ? { resolved: input.resolved } : {}),
      ...(input.guildId ? { guild_id: input.guildId } : {}),
    };
    return this.dispatchInteraction(2, input, data);
  }

  /**
   * Sends INTERACTION_CREATE for a modal's submission (type 5): `fields` by their text inputs'
   * custom_id. A modal opened from a button carries that button's message (so the answer may update it).
   */
  dispatchModalSubmit(input: CommonDispatch & { customId: string; fields: Record<string, string>; messageId?: string }): InteractionRecord {
    const message = input.messageId ? this.messages.get(input.messageId) : undefined;
    if (input.messageId && !message) throw new Error(`no message ${input.messageId}`);
    const components = Object.entries(input.fields).map(([custom_id, value]) => ({ type: 1, components: [{ type: 4, custom_id, value }] }));
    return this.dispatchInteraction(5, input, { custom_id: input.customId, components }, message);
  }

  /** Sends INTERACTION_CREATE for a button press on one of the bot's messages. */
  dispatchButton(input: ButtonDispatch): InteractionRecord {
    const message = this.messages.get(input.messageId);
    if (!message) throw new Error(`no message ${input.messageId}`);
    return this.dispatchInteraction(3, input, { custom_id: input.customId, component_type: 2 }, message);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.http.close((error) => (error ? reject(error) : resolve())));
  }

  // ---- internals -------------------------------------------------------------------------------

  private async listen(): Promise<void> {
    this.http = createServer((req, res) => void this.handle(req, res));
    this.wss = new WebSocketServer({ noServer: true });
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onGateway(ws));
    });
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    this.port = (this.http.address() as AddressInfo).port;
  }

  private snowflake(at = Date.now()): string {
    this.idCounter = (this.idCounter + 1n) % 4096n;
    return String(((BigInt(at) - DISCORD_EPOCH) << 22n) | this.idCounter);
  }

  private commandId(name: string, guildId: string | undefined): string {
    const registered = [...this.commands.global, ...(guildId ? (this.commands.guild.get(guildId) ?? []) : [])];
    const found = registered.find((c) => c.name === name);
    return typeof found?.id === 'string' ? found.id : this.snowflake();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private dispatchInteraction(type: 2 | 3 | 5, input: CommonDispatch, data: Json, message?: StoredMessage): InteractionRecord {
    const now = Date.now() - (input.ageMs ?? 0);
    const id = this.snowflake(now);
    const token = `aW50ZXJhY3Rpb246${randomBytes(24).toString('base64url')}`;
    const guild = this.options.guilds.find((g) => g.id === input.guildId);
    const channel = guild?.channels.find((c) => c.id === input.channelId);
    const user = { global_name: null, avatar: null, discriminator: '0', public_flags: 0, ...input.from.user };
    const payload: Json = {
      id,
      application_id: this.options.applicationId,
      type,
      token,
      version: 1,
      data,
      locale: input.locale ?? 'en-US',
      channel_id: input.channelId,
      channel: {
        id: input.channelId,
        type: input.guildId ? 0 : 1,
        name: channel?.name ?? 'dm',
        ...(input.guildId ? { guild_id: input.guildId } : {}),
      },
      app_permissions: '562949953421311',
      entitlements: [],
      authorizing_integration_owners: input.guildId ? { '0': input.guildId } : { '1': user.id },
      context: input.guildId ? 0 : 1,
      ...(input.attachmentSizeLimit !== undefined ? { attachment_size_limit: input.attachmentSizeLimit } : {}),
      ...(input.guildId
        ? {
            guild_id: input.guildId,
            guild_locale: 'en-US',
            guild: { id: input.guildId, locale: 'en-US', features: [] },
            member: {
              user,
              roles: [],
              permissions: input.from.permissions ?? '1071698660929',
              joined_at: new Date(0).toISOString(),
              deaf: false,
              mute: false,
              flags: 0,
              nick: null,
              avatar: null,
              premium_since: null,
              pending: false,
            },
          }
        : { user }),
      ...(message ? { message: this.render(message) } : {}),
    };
    const record: InteractionRecord = {
      id,
      token,
      type,
      createdAt: now,
      channelId: input.channelId,
      ...(input.guildId ? { guildId: input.guildId } : {}),
      userId: user.id,
      ...(message ? { sourceMessageId: message.id } : {}),
      callbacks: [],
    };
    this.interactions.set(id, record);
    this.dispatch('INTERACTION_CREATE', payload);
    return record;
  }

  private dispatch(t: string, d: unknown, only?: WebSocket): void {
    for (const socket of only ? [only] : this.sockets) {
      if (socket.readyState !== socket.OPEN) continue;
      this.sequence += 1;
      socket.send(JSON.stringify({ op: 0, t, s: this.sequence, d }));
      this.gatewayLog.push({ at: Date.now(), op: 0, t });
    }
  }

  private onGateway(ws: WebSocket): void {
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: this.options.heartbeatIntervalMs } }));
    ws.on('message', (raw: Buffer) => {
      let payload: { op?: number; d?: Json };
      try {
        payload = JSON.parse(raw.toString('utf8')) as { op?: number; d?: Json };
      } catch {
        ws.close(4002, 'Error while decoding payload.');
        return;
      }
      this.gatewayLog.push({ at: Date.now(), op: payload.op ?? -1 });
      switch (payload.op) {
        case 1:
          ws.send(JSON.stringify({ op: 11 }));
          break;
        case 2:
          this.identify(ws, payload.d ?? {});
          break;
        case 6:
          // Resuming is not supported: ask for a fresh IDENTIFY, as Discord does for unknown sessions.
          ws.send(JSON.stringify({ op: 9, d: false }));
          break;
        default:
          break;
      }
      this.notify();
    });
    ws.on('close', () => {
      this.sockets.delete(ws);
      this.notify();
    });
  }

  private identify(ws: WebSocket, d: Json): void {
    if (d.token !== this.options.token && d.token !== `Bot ${this.options.token}`) {
      ws.close(4004, 'Authentication failed.');
      return;
    }
    this.sockets.add(ws);
    this.identifies.push({ intents: Number(d.intents), shard: d.shard });
    this.dispatch(
      'READY',
      {
        v: 10,
        user: { ...this.options.botUser, bot: true, discriminator: '0', avatar: null, global_name: null, verified: true, flags: 0 },
        guilds: this.options.guilds.map((g) => ({ id: g.id, unavailable: true })),
        session_id: randomBytes(16).toString('hex'),
        resume_gateway_url: this.gatewayUrl,
        shard: [0, 1],
        application: { id: this.options.applicationId, flags: 0 },
        private_channels: [],
        relationships: [],
        presences: [],
        guild_join_requests: [],
        geo_ordered_rtc_regions: [],
      },
      ws,
    );
    for (const guild of this.options.guilds) this.dispatch('GUILD_CREATE', this.guildPayload(guild), ws);
  }

  private guildPayload(guild: FakeGuild): Json {
    return {
      id: guild.id,
      name: guild.name,
      icon: null,
      splash: null,
      discovery_splash: null,
      owner_id: '900000000000000099',
      afk_channel_id: null,
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      roles: [everyone(guild.id)],
      emojis: [],
      stickers: [],
      features: [],
      mfa_level: 0,
      application_id: null,
      system_channel_id: null,
      system_channel_flags: 0,
      rules_channel_id: null,
      max_members: 500000,
      vanity_url_code: null,
      description: null,
      banner: null,
      premium_tier: 0,
      premium_subscription_count: 0,
      preferred_locale: 'en-US',
      public_updates_channel_id: null,
      nsfw_level: 0,
      premium_progress_bar_enabled: false,
      safety_alerts_channel_id: null,
      joined_at: new Date(0).toISOString(),
      large: false,
      unavailable: false,
      member_count: 2,
      voice_states: [],
      members: [],
      channels: guild.channels.map((c, position) => ({
        id: c.id,
        type: 0,
        name: c.name,
        guild_id: guild.id,
        position,
        permission_overwrites: [],
        nsfw: false,
        parent_id: null,
        topic: null,
        last_message_id: null,
        rate_limit_per_user: 0,
      })),
      threads: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    // Node does not decode %40 in paths; Discord does, and discord.js sends `%40original`.
    const path = decodeURIComponent(url.pathname).replace(/^\/api\/v10/, '');
    const authorized = req.headers.authorization === `Bot ${this.options.token}`;
    let status = 500;
    try {
      if (!url.pathname.startsWith('/api/v10/')) {
        if (method === 'GET' && url.pathname.startsWith('/attachments/')) {
          status = this.serveAttachment(url.pathname, res);
          return;
        }
        throw new HttpFailure(404, { message: '404: Not Found', code: 0 });
      }
      this.applyRateLimit(method, path);
      this.applyFailure(method, path);
      const result = await this.route(method, path, url, req, authorized);
      status = result.status;
      if (result.body === undefined) {
        // Discord's 204s carry no content type; @discordjs/rest would try to parse a JSON one.
        res.writeHead(result.status);
        res.end();
      } else {
        send(res, result.status, result.body);
      }
    } catch (error: unknown) {
      if (error instanceof HttpFailure) {
        status = error.status;
        send(res, error.status, error.body, error.headers);
      } else {
        status = 500;
        send(res, 500, { message: `fake failure: ${String(error)}`, code: 0 });
      }
    } finally {
      this.requests.push({ at: Date.now(), method, path: maskTokens(path), status, authorized });
      this.notify();
    }
  }

  private applyFailure(method: string, path: string): void {
    const index = this.failures.findIndex((r) => (!r.method || r.method === method) && r.path.test(path));
    const rule = this.failures[index];
    if (!rule) return;
    rule.times -= 1;
    if (rule.times <= 0) this.failures.splice(index, 1);
    throw new HttpFailure(rule.status, { message: rule.message, code: rule.code });
  }

  private applyRateLimit(method: string, path: string): void {
    const index = this.rateLimits.findIndex((r) => (!r.method || r.method === method) && r.path.test(path));
    const rule = this.rateLimits[index];
    if (!rule) return;
    rule.times = (rule.times ?? 1) - 1;
    if (rule.times <= 0) this.rateLimits.splice(index, 1);
    const headers: Record<string, string> = {
      'Retry-After': String(Math.ceil(rule.retryAfterSec)),
      'X-RateLimit-Limit': '5',
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset-After': String(rule.retryAfterSec),
      'X-RateLimit-Reset': String((Date.now() / 1000 + rule.retryAfterSec).toFixed(3)),
      'X-RateLimit-Bucket': 'fakebucket',
      'X-RateLimit-Scope': rule.global ? 'global' : 'user',
      ...(rule.global ? { 'X-RateLimit-Global': 'true' } : {}),
    };
    throw new HttpFailure(
      429,
      { message: 'You are being rate limited.', retry_after: rule.retryAfterSec, global: rule.global ?? false, code: 0 },
      headers,
    );
  }

  private requireBot(authorized: boolean): void {
    if (!authorized) throw new HttpFailure(401, { message: '401: Unauthorized', code: 0 });
  }

  private async route(
    method: string,
    path: string,
    url: URL,
    req: IncomingMessage,
    authorized: boolean,
  ): Promise<{ status: number; body?: unknown }> {
    let m: RegExpExecArray | null;
    if (method === 'GET' && path === '/gateway/bot') {
      this.requireBot(authorized);
      return {
        status: 200,
        body: {
          url: this.gatewayUrl,
          shards: 1,
          session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
        },
      };
    }
    if (method === 'GET' && path === '/users/@me') {
      this.requireBot(authorized);
      return { status: 200, body: { ...this.options.botUser, bot: true, discriminator: '0', avatar: null } };
    }
    if ((m = /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/.exec(path))) {
      this.requireBot(authorized);
      if (m[1] !== this.options.applicationId) throw new HttpFailure(403, { message: 'Missing Access', code: 50001 });
      const guildId = m[2];
      if (method === 'PUT') {
        const body = (await readJson(req)) as Json[];
        const stored = body.map((c) => ({
          ...c,
          id: this.snowflake(),
          application_id: this.options.applicationId,
          version: this.snowflake(),
          type: c.type ?? 1,
          ...(guildId ? { guild_id: guildId } : {}),
        }));
        if (guildId) this.commands.guild.set(guildId, stored);
        else this.commands.global = stored;
        return { status: 200, body: stored };
      }
      if (method === 'GET') return { status: 200, body: guildId ? (this.commands.guild.get(guildId) ?? []) : this.commands.global };
    }
    if (method === 'POST' && (m = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path))) {
      return this.callback(m[1] ?? '', m[2] ?? '', url, req);
    }
    if ((m = /^\/webhooks\/(\d+)\/([^/]+)(?:\/messages\/([^/]+))?$/.exec(path))) {
      return this.webhook(method, m[1] ?? '', m[2] ?? '', m[3], req);
    }
    if ((m = /^\/channels\/(\d+)\/messages(?:\/(\d+))?$/.exec(path))) {
      this.requireBot(authorized);
      return this.channelMessage(method, m[1] ?? '', m[2], req);
    }
    throw new HttpFailure(404, { message: '404: Not Found', code: 0 });
  }

  private interactionByToken(applicationId: string, token: string): InteractionRecord {
    if (applicationId !== this.options.applicationId) throw new HttpFailure(404, { message: 'Unknown Webhook', code: 10015 });
    const record = [...this.interactions.values()].find((i) => i.token === token);
    if (!record) throw new HttpFailure(401, { message: 'Invalid Webhook Token', code: 50027 });
    if (Date.now() - record.createdAt > this.options.tokenLifetimeMs) {
      throw new HttpFailure(401, { message: 'Invalid Webhook Token', code: 50027 });
    }
    return record;
  }

  private async callback(id: string, token: string, url: URL, req: IncomingMessage): Promise<{ status: number; body?: unknown }> {
    const { payload, files } = await readPayload(req);
    const record = this.interactions.get(id);
    if (!record || record.token !== token) throw new HttpFailure(404, { message: 'Unknown interaction', code: 10062 });
    const now = Date.now();
    if (record.acknowledgedAt === undefined && now - record.createdAt > this.options.ackWindowMs) {
      throw new HttpFailure(404, { message: 'Unknown interaction', code: 10062 });
    }
    if (record.acknowledgedAt !== undefined) {
      throw new HttpFailure(400, { message: 'Interaction has already been acknowledged.', code: 40060 });
    }
    const type = Number(payload.type);
    const data = (payload.data ?? {}) as Json;
    record.acknowledgedAt = now;
    record.callbackType = type;
    record.callbacks.push({ at: now, type, data });
    let message: StoredMessage | undefined;
    switch (type) {
      case 4:
      case 5: {
        this.checkSize(files);
        message = this.createMessage(record.channelId, record.guildId, data, files, 'callback', record.id);
        if (type === 5) message.flags |= 128; // LOADING: "reelforge is thinking…"
        record.originalMessageId = message.id;
        break;
      }
      case 6:
        break;
      case 9: {
        // A modal answers a command or a button, never another modal's submission.
        if (record.type === 5) throw new HttpFailure(400, { message: 'Interaction has already been acknowledged.', code: 40060 });
        const rows = Array.isArray(data.components) ? (data.components as Json[]) : [];
        if (typeof data.custom_id !== 'string' || typeof data.title !== 'string' || rows.length < 1 || rows.length > 5) {
          throw new HttpFailure(400, { message: 'Invalid Form Body', code: 50035 });
        }
        break;
      }
      case 7: {
        const source = record.sourceMessageId ? this.messages.get(record.sourceMessageId) : undefined;
        if (!source) throw new HttpFailure(400, { message: 'Invalid interaction application command', code: 50035 });
        this.checkSize(files);
        this.applyEdit(source, data, files, 'update');
        message = source;
        break;
      }
      default:
        throw new HttpFailure(400, { message: 'Invalid Form Body', code: 50035 });
    }
    if (url.searchParams.get('with_response') === 'true') {
      return {
        status: 200,
        body: {
          interaction: {
            id: record.id,
            type: record.type,
            response_message_id: message?.id,
            response_message_loading: type === 5,
            response_message_ephemeral: Boolean(message && message.flags & 64),
          },
          ...(message ? { resource: { type, message: this.render(message) } } : { resource: { type } }),
        },
      };
    }
    return { status: 204 };
  }

  private async webhook(
    method: string,
    applicationId: string,
    token: string,
    messageRef: string | undefined,
    req: IncomingMessage,
  ): Promise<{ status: number; body?: unknown }> {
    const { payload, files } = method === 'GET' || method === 'DELETE' ? { payload: {}, files: [] } : await readPayload(req);
    const record = this.interactionByToken(applicationId, token);
    if (messageRef === undefined) {
      if (method !== 'POST') throw new HttpFailure(405, { message: '405: Method Not Allowed', code: 0 });
      if (record.acknowledgedAt === undefined) throw new HttpFailure(404, { message: 'Unknown Webhook', code: 10015 });
      this.checkSize(files);
      const message = this.createMessage(record.channelId, record.guildId, payload, files, 'webhook', record.id);
      return { status: 200, body: this.render(message) };
    }
    const messageId = messageRef === '@original' ? record.originalMessageId : messageRef;
    const message = messageId ? this.messages.get(messageId) : undefined;
    if (!message || message.interactionId !== record.id) throw new HttpFailure(404, { message: 'Unknown Message', code: 10008 });
    if (method === 'GET') return { status: 200, body: this.render(message) };
    if (method === 'PATCH') {
      this.checkSize(files);
      this.applyEdit(message, payload, files, 'webhook');
      return { status: 200, body: this.render(message) };
    }
    if (method === 'DELETE') {
      this.messages.delete(message.id);
      return { status: 204 };
    }
    throw new HttpFailure(405, { message: '405: Method Not Allowed', code: 0 });
  }

  private async channelMessage(
    method: string,
    channelId: string,
    messageId: string | undefined,
    req: IncomingMessage,
  ): Promise<{ status: number; body?: unknown }> {
    const known = this.options.guilds.some((g) => g.channels.some((c) => c.id === channelId));
    if (!known) throw new HttpFailure(404, { message: 'Unknown Channel', code: 10003 });
    const { payload, files } = method === 'GET' ? { payload: {}, files: [] } : await readPayload(req);
    if (messageId === undefined) {
      if (method === 'POST') {
        this.checkSize(files);
        const message = this.createMessage(channelId, this.guildOf(channelId), payload, files, 'channel');
        return { status: 200, body: this.render(message) };
      }
      if (method === 'GET') return { status: 200, body: this.channelMessages(channelId).map((m) => this.render(m)) };
    } else {
      const message = this.messages.get(messageId);
      // Ephemeral interaction responses exist only for their user: the channel API does not know them.
      if (!message || message.channel_id !== channelId || message.flags & 64) {
        throw new HttpFailure(404, { message: 'Unknown Message', code: 10008 });
      }
      if (method === 'GET') return { status: 200, body: this.render(message) };
      if (method === 'PATCH') {
        this.checkSize(files);
        this.applyEdit(message, payload, files, 'channel');
        return { status: 200, body: this.render(message) };
      }
    }
    throw new HttpFailure(405, { message: '405: Method Not Allowed', code: 0 });
  }

  private guildOf(channelId: string): string | undefined {
    return this.options.guilds.find((g) => g.channels.some((c) => c.id === channelId))?.id;
  }

  private checkSize(files: UploadedFile[]): void {
    const total = files.reduce((sum, f) => sum + f.data.length, 0);
    if (total > this.options.attachmentLimitBytes) {
      throw new HttpFailure(413, { message: 'Request entity too large', code: 40005 });
    }
  }

  private toAttachments(files: UploadedFile[]): StoredAttachment[] {
    return files.map((f) => {
      const id = this.snowflake();
      return {
        id,
        filename: f.filename,
        size: f.data.length,
        content_type: f.contentType,
        url: `http://127.0.0.1:${this.port}/attachments/${id}/${encodeURIComponent(f.filename)}`,
        data: f.data,
      };
    });
  }

  private createMessage(
    channelId: string,
    guildId: string | undefined,
    data: Json,
    files: UploadedFile[],
    via: MessageRevision['via'],
    interactionId?: string,
  ): StoredMessage {
    const message: StoredMessage = {
      id: this.snowflake(),
      channel_id: channelId,
      ...(guildId ? { guild_id: guildId } : {}),
      content: typeof data.content === 'string' ? data.content : '',
      components: Array.isArray(data.components) ? (data.components as unknown[]) : [],
      embeds: Array.isArray(data.embeds) ? (data.embeds as unknown[]) : [],
      attachments: this.toAttachments(files),
      flags: typeof data.flags === 'number' ? data.flags & 64 : 0,
      ...(interactionId ? { webhook_id: this.options.applicationId, interactionId } : {}),
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      history: [],
    };
    this.messages.set(message.id, message);
    this.record(message, via);
    return message;
  }

  private applyEdit(message: StoredMessage, data: Json, files: UploadedFile[], via: MessageRevision['via']): void {
    if ('content' in data) message.content = typeof data.content === 'string' ? data.content : '';
    if ('components' in data) message.components = Array.isArray(data.components) ? (data.components as unknown[]) : [];
    if ('embeds' in data) message.embeds = Array.isArray(data.embeds) ? (data.embeds as unknown[]) : [];
    // `attachments` lists the existing attachments to keep (by id) and describes the new uploads.
    const kept = Array.isArray(data.attachments)
      ? message.attachments.filter((a) => (data.attachments as Json[]).some((k) => String(k.id) === a.id))
      : message.attachments;
    message.attachments = [...kept, ...this.toAttachments(files)];
    message.flags &= ~128;
    message.edited_timestamp = new Date().toISOString();
    this.record(message, via);
  }

  private record(message: StoredMessage, via: MessageRevision['via']): void {
    message.history.push({
      at: Date.now(),
      via,
      content: message.content,
      components: message.components,
      attachments: message.attachments.map((a) => a.filename),
    });
  }

  private render(message: StoredMessage): Json {
    return {
      id: message.id,
      channel_id: message.channel_id,
      ...(message.guild_id ? { guild_id: message.guild_id } : {}),
      type: message.interactionId ? 20 : 0,
      author: { ...this.options.botUser, bot: true, discriminator: '0', avatar: null, global_name: null },
      content: message.content,
      components: message.components,
      embeds: message.embeds,
      attachments: message.attachments.map(({ data: _data, ...rest }) => rest),
      mentions: [],
      mention_roles: [],
      mention_everyone: false,
      pinned: false,
      tts: false,
      flags: message.flags,
      timestamp: message.timestamp,
      edited_timestamp: message.edited_timestamp,
      ...(message.webhook_id ? { webhook_id: message.webhook_id, application_id: this.options.applicationId } : {}),
    };
  }

  private serveAttachment(pathname: string, res: ServerResponse): number {
    const id = pathname.split('/')[2] ?? '';
    for (const message of this.messages.values()) {
      const attachment = message.attachments.find((a) => a.id === id);
      if (attachment) {
        res.writeHead(200, { 'Content-Type': attachment.content_type, 'Content-Length': attachment.size });
        res.end(attachment.data);
        return 200;
      }
    }
    send(res, 404, { message: 'Not Found', code: 0 });
    return 404;
  }
}

interface UploadedFile {
  field: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Webhook and interaction tokens sit in URL paths; the request log masks them. */
function maskTokens(path: string): string {
  return path
    .replace(/^(\/interactions\/\d+\/)[^/]+/, '$1:token')
    .replace(/^(\/webhooks\/\d+\/)[^/]+/, '$1:token');
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req);
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new HttpFailure(400, { message: 'The request body contains invalid JSON.', code: 50109 });
  }
}

/** Reads a JSON body, or multipart/form-data with `payload_json` and `files[n]` parts. */
async function readPayload(req: IncomingMessage): Promise<{ payload: Json; files: UploadedFile[] }> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('multipart/form-data')) return { payload: (await readJson(req)) as Json, files: [] };
  return new Promise((resolve, reject) => {
    const files: UploadedFile[] = [];
    let payload: Json = {};
    const parser = busboy({ headers: req.headers, defParamCharset: 'utf8', limits: { fileSize: 1024 * MiB } });
    parser.on('field', (name, value) => {
      if (name !== 'payload_json') return;
      try {
        payload = JSON.parse(value) as Json;
      } catch {
        reject(new HttpFailure(400, { message: 'The request body contains invalid JSON.', code: 50109 }));
      }
    });
    parser.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () =>
        files.push({ field, filename: info.filename ?? 'file', contentType: info.mimeType, data: Buffer.concat(chunks) }),
      );
    });
    parser.on('error', (error: unknown) => reject(new HttpFailure(400, { message: `bad multipart: ${String(error)}`, code: 50035 })));
    parser.on('close', () => resolve({ payload, files: files.sort((a, b) => a.field.localeCompare(b.field, 'en', { numeric: true })) }));
    req.pipe(parser);
  });
}
