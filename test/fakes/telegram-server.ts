/**
 * A fake Telegram Bot API server for tests: node:http on 127.0.0.1, routes `/bot<token>/<method>`,
 * answers the way Telegram does (the same `ok`/`error_code`/`description` bodies, the same 400
 * texts), so the real grammY client and bot run against it unchanged through `apiRoot`.
 *
 * What it models: real long polling (`offset` confirms, `timeout` holds the request), per-chat
 * message ids, private chats, groups, supergroups and forum topics, `editMessageText` with its real
 * errors, multipart uploads parsed with busboy (bytes kept), 413 over an upload limit, 429 with
 * `retry_after` (injected, or enforced for edits that come too fast), callback queries.
 * Tests act as users through `sendUserMessage` / `pressButton` and read what the bot did through
 * `history` (every version of every message) and `calls`.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import busboy from 'busboy';
import type { UserFromGetMe } from 'grammy/types';

export interface FakeUser {
  id: number;
  is_bot?: boolean;
  first_name: string;
  username?: string;
  language_code?: string;
}

export interface FakeChat {
  id: number;
  type: 'private' | 'group' | 'supergroup';
  title?: string;
  first_name?: string;
  username?: string;
  is_forum?: true;
}

export interface InlineButton {
  text: string;
  callback_data?: string;
  url?: string;
}
export interface InlineKeyboard {
  inline_keyboard: InlineButton[][];
}

export interface UploadedFile {
  field: string;
  filename: string;
  bytes: Buffer;
}

export interface Upload {
  method: string;
  /** Text fields as sent (objects are JSON strings on the wire). */
  fields: Record<string, string>;
  /** File parts by the name used in their `attach://` reference (or their own field name). */
  files: Record<string, UploadedFile>;
  /** The file behind a parameter, following `attach://`: `file('video')`, `file('thumbnail')`. */
  file(param: string): UploadedFile | undefined;
}

export interface MessageVersion {
  text?: string;
  caption?: string;
  reply_markup?: InlineKeyboard;
  at: number;
}

export interface StoredMessage {
  chatId: number;
  messageId: number;
  fromBot: boolean;
  from: FakeUser;
  date: number;
  threadId?: number;
  replyToMessageId?: number;
  /** Every version: the one sent first, then one per accepted edit. */
  versions: MessageVersion[];
  deleted: boolean;
  /** For sendVideo / sendDocument: what was uploaded and with which fields. */
  upload?: Upload;
  video?: { file_id: string; file_unique_id: string; width: number; height: number; duration: number; file_size: number; mime_type: string };
  document?: { file_id: string; file_unique_id: string; file_name: string; file_size: number };
  /** sendVideo/sendMessage parameters that are not part of the message itself. */
  params: Record<string, unknown>;
}

export interface ApiCall {
  method: string;
  params: Record<string, unknown>;
  at: number;
  status: number;
  description?: string;
  /** Who called: the client's IP address (tells containers apart). */
  remoteAddress?: string;
}

export interface InjectedError {
  error_code: number;
  description: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

/**
 * A random fault for one call (a soak): an error answer as Telegram sends it, or a timeout (the
 * request is read, never processed nor answered, and the connection is dropped after `afterMs`).
 */
export type TelegramFault = InjectedError | { timeoutMs: number };
export type TelegramFaultPlan = (method: string, params: Record<string, unknown>) => TelegramFault | undefined;

export interface CallbackAnswer {
  callback_query_id: string;
  text?: string;
  show_alert?: boolean;
  at: number;
}

export interface FakeTelegramOptions {
  token?: string;
  botId?: number;
  botUsername?: string;
  /** Largest accepted upload in bytes (50 MB, like the public Bot API). */
  uploadLimitBytes?: number;
  /** When set, an `editMessageText` to a chat sooner than this after the last accepted one gets a 429. */
  minEditIntervalMs?: number;
  /** Address to listen on (127.0.0.1); a container test binds the Docker bridge's gateway. */
  host?: string;
  /** Port to listen on (any free one). */
  port?: number;
}

type Params = Record<string, unknown>;

class ApiError extends Error {
  constructor(
    readonly error_code: number,
    readonly description: string,
    readonly parameters?: InjectedError['parameters'],
  ) {
    super(description);
  }
}

const badRequest = (text: string): ApiError => new ApiError(400, `Bad Request: ${text}`);

interface Update {
  update_id: number;
  [kind: string]: unknown;
}

interface Waiter {
  offset: number;
  limit: number;
  allowed: string[] | undefined;
  respond: (updates: Update[]) => void;
  conflict: () => void;
}

export class FakeTelegramServer {
  readonly token: string;
  readonly bot: FakeUser & { is_bot: true; username: string };
  /** Changeable mid-test, e.g. to provoke a 413. */
  uploadLimitBytes: number;
  minEditIntervalMs: number | undefined;

  /** Every API call, in arrival order, with the HTTP status answered. */
  readonly calls: ApiCall[] = [];
  readonly callbackAnswers: CallbackAnswer[] = [];
  /** setMyCommands calls by `<scope type>:<language_code or ''>`. */
  readonly commands = new Map<string, { command: string; description: string }[]>();
  /** 429s sent because edits to a chat came too fast. */
  rateLimitedEdits = 0;
  /** Consulted for every call that has no injected error queued: random faults for a soak. */
  faultPlan: TelegramFaultPlan | undefined;

  private readonly server: Server;
  private readonly events = new EventEmitter();
  private readonly chats = new Map<number, FakeChat>();
  private readonly messages = new Map<number, StoredMessage[]>();
  private readonly nextMessageId = new Map<number, number>();
  private readonly lastEditAt = new Map<number, number>();
  private readonly injected = new Map<string, InjectedError[]>();
  private readonly hanging = new Map<string, number>();
  private readonly openCallbackQueries = new Set<string>();
  /** Chats the bot was removed from (or blocked in): every call there gets a 403. */
  private readonly removedFrom = new Set<number>();
  private updates: Update[] = [];
  private nextUpdateId = 1;
  private waiter: Waiter | undefined;
  private baseUrl = '';

  private constructor(options: FakeTelegramOptions) {
    this.token = options.token ?? `${options.botId ?? 777000}:TEST-${randomBytes(8).toString('hex')}`;
    this.bot = { id: options.botId ?? 777000, is_bot: true, first_name: 'Reelforge', username: options.botUsername ?? 'reelforge_bot' };
    this.uploadLimitBytes = options.uploadLimitBytes ?? 50 * 1024 * 1024;
    this.minEditIntervalMs = options.minEditIntervalMs;
    this.events.setMaxListeners(100);
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
  }

  static async start(options: FakeTelegramOptions = {}): Promise<FakeTelegramServer> {
    const fake = new FakeTelegramServer(options);
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(options.port ?? 0, host, resolve);
    });
    const { port } = fake.server.address() as AddressInfo;
    fake.baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return fake;
  }

  /** Give this to grammY as `client.apiRoot`. */
  get apiRoot(): string {
    return this.baseUrl;
  }

  /** The `getMe` answer, for `new Bot(token, { botInfo })`. */
  get botInfo(): UserFromGetMe {
    return {
      ...this.bot,
      has_topics_enabled: false,
      allows_users_to_create_topics: false,
      can_manage_bots: false,
      supports_join_request_queries: false,
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
    };
  }

  async close(): Promise<void> {
    this.waiter?.respond([]);
    this.waiter = undefined;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ------------------------------------------------------------------ chats and users

  privateChat(user: FakeUser): FakeChat {
    const chat: FakeChat = { id: user.id, type: 'private', first_name: user.first_name, ...(user.username ? { username: user.username } : {}) };
    this.chats.set(chat.id, chat);
    return chat;
  }

  group(id: number, title: string, options: { supergroup?: boolean; forum?: boolean } = {}): FakeChat {
    const chat: FakeChat = {
      id,
      type: options.supergroup || options.forum ? 'supergroup' : 'group',
      title,
      ...(options.forum ? { is_forum: true as const } : {}),
    };
    this.chats.set(id, chat);
    return chat;
  }

  /** Creates a forum topic; its id is the id of the service message that opened it, as in Telegram. */
  createTopic(chat: FakeChat, name: string, creator: FakeUser): number {
    if (!chat.is_forum) throw new Error('topics exist only in forum supergroups');
    const message = this.store(chat.id, { fromBot: false, from: creator, versions: [{ text: `Topic created: ${name}`, at: Date.now() }], params: {} });
    message.threadId = message.messageId;
    return message.messageId;
  }

  // ------------------------------------------------------------------ acting as users

  /** A user writes in a chat; commands get their `bot_command` entity. Returns the stored message. */
  sendUserMessage(chat: FakeChat, from: FakeUser, text: string, options: { threadId?: number; replyTo?: number } = {}): StoredMessage {
    if (!this.chats.has(chat.id)) this.chats.set(chat.id, chat);
    const message = this.store(chat.id, {
      fromBot: false,
      from,
      versions: [{ text, at: Date.now() }],
      params: {},
      ...(options.threadId !== undefined ? { threadId: options.threadId } : {}),
      ...(options.replyTo !== undefined ? { replyToMessageId: options.replyTo } : {}),
    });
    this.pushUpdate({ message: this.toWire(message) });
    return message;
  }

  /**
   * Delivers a user's message again, as Telegram does when a bot died before confirming the update
   * (a restart between receiving and acknowledging it).
   */
  redeliver(chatId: number, messageId: number): void {
    const message = this.find(chatId, messageId);
    if (!message) throw new Error(`no message ${messageId} in chat ${chatId}`);
    this.pushUpdate({ message: this.toWire(message) });
  }

  /** A user presses an inline button under a message; returns the callback query id. */
  pressButton(chat: FakeChat, from: FakeUser, messageId: number, data: string): string {
    const message = this.find(chat.id, messageId);
    if (!message) throw new Error(`no message ${messageId} in chat ${chat.id}`);
    const id = randomBytes(8).readBigUInt64BE().toString();
    this.openCallbackQueries.add(id);
    this.pushUpdate({
      callback_query: { id, from, message: this.toWire(message), chat_instance: String(chat.id), data },
    });
    return id;
  }

  /** Someone (a user or an admin) deletes a message in the chat. */
  deleteAsUser(chatId: number, messageId: number): void {
    const message = this.find(chatId, messageId);
    if (message) message.deleted = true;
    this.changed();
  }

  // ------------------------------------------------------------------ reading what happened

  /** Every message in a chat, oldest first, deleted ones included (with `deleted: true`). */
  history(chatId: number): StoredMessage[] {
    return [...(this.messages.get(chatId) ?? [])];
  }

  botMessages(chatId: number): StoredMessage[] {
    return this.history(chatId).filter((m) => m.fromBot);
  }

  message(chatId: number, messageId: number): StoredMessage | undefined {
    return this.find(chatId, messageId);
  }

  /** Resolves when `check` returns a value other than undefined/false; re-checked after every change. */
  async waitFor<T>(check: () => T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
    const first = check();
    if (first !== undefined && first !== false) return first;
    return new Promise<T>((resolve, reject) => {
      const onChange = (): void => {
        const value = check();
        if (value !== undefined && value !== false) {
          cleanup();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.events.off('change', onChange);
      };
      this.events.on('change', onChange);
    });
  }

  // ------------------------------------------------------------------ fault injection

  /** The next `times` calls of `method` fail with this error (e.g. a 429 with retry_after). */
  failNext(method: string, error: InjectedError, times = 1): void {
    const list = this.injected.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push(error);
    this.injected.set(method, list);
  }

  /** The next `times` calls of `method` get no answer at all (a hung server) until the fake closes. */
  hangNext(method: string, times = 1): void {
    this.hanging.set(method, (this.hanging.get(method) ?? 0) + times);
  }

  /** True while a long poll is held open waiting for updates (a bot is polling). */
  get longPollWaiting(): boolean {
    return this.waiter !== undefined;
  }

  /**
   * The bot is removed from a group (or blocked by a user, for a private chat): from now on every
   * call naming that chat gets Telegram's 403.
   */
  removeBot(chatId: number): void {
    this.removedFrom.add(chatId);
  }

  tooManyRequests(method: string, retryAfterSec: number, times = 1): void {
    this.failNext(method, { error_code: 429, description: `Too Many Requests: retry after ${retryAfterSec}`, parameters: { retry_after: retryAfterSec } }, times);
  }

  // ------------------------------------------------------------------ HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    let method = '';
    let params: Params = {};
    const reply = (status: number, body: unknown): void => {
      if (res.headersSent || res.destroyed) return;
      const json = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
      res.end(json);
      const description = (body as { description?: string }).description;
      const remoteAddress = req.socket.remoteAddress;
      this.calls.push({ method, params, at: Date.now(), status, ...(description ? { description } : {}), ...(remoteAddress ? { remoteAddress } : {}) });
      this.changed();
    };
    const fail = (error: ApiError): void =>
      reply(error.error_code, {
        ok: false,
        error_code: error.error_code,
        description: error.description,
        ...(error.parameters ? { parameters: error.parameters } : {}),
      });
    try {
      if (!match) throw new ApiError(404, 'Not Found');
      method = match[2] ?? '';
      if (match[1] !== this.token) {
        await drain(req);
        throw new ApiError(401, 'Unauthorized');
      }
      const parsed = await this.readParams(req, url, method);
      params = parsed.params;
      if (parsed.tooLarge) throw new ApiError(413, 'Request Entity Too Large');
      const hang = this.hanging.get(method) ?? 0;
      if (hang > 0) {
        this.hanging.set(method, hang - 1);
        this.calls.push({ method, params, at: Date.now(), status: 0, description: 'no answer (hung)' });
        this.changed();
        return; // closeAllConnections() on close ends it
      }
      const injected = this.injected.get(method)?.shift();
      if (injected) throw new ApiError(injected.error_code, injected.description, injected.parameters);
      const removed = this.forbidden(params);
      if (removed) throw removed;
      const planned = this.faultPlan?.(method, params);
      if (planned && 'timeoutMs' in planned) {
        // Never processed, never answered: the connection drops, as behind an overloaded proxy.
        this.calls.push({ method, params, at: Date.now(), status: 0, description: 'timeout (connection dropped)' });
        setTimeout(() => {
          res.destroy();
          this.changed();
        }, planned.timeoutMs).unref();
        return;
      }
      if (planned) throw new ApiError(planned.error_code, planned.description, planned.parameters);
      if (method.toLowerCase() === 'getupdates') {
        this.getUpdates(params, res, (updates) => reply(200, { ok: true, result: updates }), () =>
          fail(new ApiError(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running')),
        );
        return;
      }
      reply(200, { ok: true, result: this.dispatch(method, params, parsed.upload) });
    } catch (error) {
      if (error instanceof ApiError) fail(error);
      else reply(500, { ok: false, error_code: 500, description: `Internal Server Error: ${String(error)}` });
    }
  }

  private forbidden(params: Params): ApiError | undefined {
    if (params.chat_id === undefined || !this.removedFrom.has(Number(params.chat_id))) return undefined;
    const chat = this.chats.get(Number(params.chat_id));
    if (chat?.type === 'private') return new ApiError(403, 'Forbidden: bot was blocked by the user');
    return new ApiError(403, `Forbidden: bot was kicked from the ${chat?.type === 'supergroup' ? 'supergroup ' : 'group '}chat`);
  }

  private async readParams(req: IncomingMessage, url: URL, method: string): Promise<{ params: Params; upload?: Upload; tooLarge: boolean }> {
    const params: Params = Object.fromEntries(url.searchParams);
    const type = req.headers['content-type'] ?? '';
    if (type.startsWith('multipart/form-data')) {
      const { fields, files, tooLarge } = await parseMultipart(req, this.uploadLimitBytes);
      for (const [k, v] of Object.entries(fields)) params[k] = decodeField(v);
      const upload: Upload = {
        method,
        fields,
        files,
        file: (param) => {
          const value = fields[param];
          if (value?.startsWith('attach://')) return files[value.slice('attach://'.length)];
          return files[param];
        },
      };
      return { params, upload, tooLarge };
    }
    const body = await readBody(req);
    if (body.length > 0) {
      if (type.includes('json')) Object.assign(params, JSON.parse(body.toString('utf8')) as Params);
      else for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params[k] = decodeField(v);
    }
    return { params, tooLarge: false };
  }

  private dispatch(method: string, p: Params, upload: Upload | undefined): unknown {
    switch (method.toLowerCase()) {
      case 'getme':
        return this.botInfo;
      case 'logout':
      case 'close':
      case 'setwebhook':
      case 'deletewebhook':
        return true;
      case 'setmycommands': {
        const scope = (p.scope as { type?: string } | undefined)?.type ?? 'default';
        const lang = typeof p.language_code === 'string' ? p.language_code : '';
        const commands = p.commands as { command: string; description: string }[] | undefined;
        if (!Array.isArray(commands)) throw badRequest('parameter "commands" is required');
        this.commands.set(`${scope}:${lang}`, commands);
        return true;
      }
      case 'getmycommands': {
        const scope = (p.scope as { type?: string } | undefined)?.type ?? 'default';
        return this.commands.get(`${scope}:${typeof p.language_code === 'string' ? p.language_code : ''}`) ?? [];
      }
      case 'sendchataction':
        this.chat(p);
        if (typeof p.action !== 'string') throw badRequest('parameter "action" is required');
        return true;
      case 'sendmessage':
        return this.toWire(this.sendMessage(p));
      case 'editmessagetext':
        return this.toWire(this.editMessageText(p));
      case 'editmessagereplymarkup':
        return this.toWire(this.editMessageReplyMarkup(p));
      case 'deletemessage': {
        const chat = this.chat(p);
        const message = this.find(chat.id, Number(p.message_id));
        if (!message || message.deleted) throw badRequest('message to delete not found');
        message.deleted = true;
        return true;
      }
      case 'sendvideo':
      case 'senddocument':
        return this.toWire(this.sendFile(method.toLowerCase() === 'sendvideo' ? 'video' : 'document', p, upload));
      case 'answercallbackquery': {
        const id = typeof p.callback_query_id === 'string' || typeof p.callback_query_id === 'number' ? String(p.callback_query_id) : '';
        if (!this.openCallbackQueries.delete(id)) {
          throw badRequest('query is too old and response timeout expired or query ID is invalid');
        }
        this.callbackAnswers.push({
          callback_query_id: id,
          ...(typeof p.text === 'string' ? { text: p.text } : {}),
          ...(p.show_alert === true ? { show_alert: true } : {}),
          at: Date.now(),
        });
        return true;
      }
      default:
        throw new ApiError(404, 'Not Found: method not found');
    }
  }

  private chat(p: Params): FakeChat {
    const chat = this.chats.get(Number(p.chat_id));
    if (!chat) throw badRequest('chat not found');
    return chat;
  }

  /** Checks thread and reply parameters shared by every send method. */
  private placement(chat: FakeChat, p: Params): { threadId?: number; replyToMessageId?: number } {
    const out: { threadId?: number; replyToMessageId?: number } = {};
    if (p.message_thread_id !== undefined) {
      const threadId = Number(p.message_thread_id);
      if (!chat.is_forum || !this.find(chat.id, threadId)) throw badRequest('message thread not found');
      out.threadId = threadId;
    }
    const reply = p.reply_parameters as { message_id?: number; allow_sending_without_reply?: boolean } | undefined;
    if (reply?.message_id !== undefined) {
      const target = this.find(chat.id, Number(reply.message_id));
      if (!target || target.deleted) {
        if (!reply.allow_sending_without_reply) throw badRequest('message to be replied not found');
      } else {
        out.replyToMessageId = target.messageId;
        // A reply inside a forum lands in the replied message's topic.
        if (out.threadId === undefined && target.threadId !== undefined) out.threadId = target.threadId;
      }
    }
    return out;
  }

  private sendMessage(p: Params): StoredMessage {
    const chat = this.chat(p);
    const text = typeof p.text === 'string' ? p.text : '';
    if (text.trim().length === 0) throw badRequest('message text is empty');
    if (text.length > 4096) throw badRequest('message is too long');
    const markup = checkMarkup(p.reply_markup);
    return this.store(chat.id, {
      fromBot: true,
      from: this.bot,
      versions: [{ text, ...(markup ? { reply_markup: markup } : {}), at: Date.now() }],
      params: p,
      ...this.placement(chat, p),
    });
  }

  /** Replaces only the buttons (of a text message or a video), keeping its text or caption. */
  private editMessageReplyMarkup(p: Params): StoredMessage {
    const chat = this.chat(p);
    const message = this.find(chat.id, Number(p.message_id));
    if (!message || message.deleted) throw badRequest('message to edit not found');
    if (!message.fromBot) throw badRequest("message can't be edited");
    const markup = checkMarkup(p.reply_markup);
    const current = message.versions.at(-1);
    if (JSON.stringify(current?.reply_markup ?? null) === JSON.stringify(markup ?? null)) {
      throw badRequest(
        'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
      );
    }
    const { reply_markup: _old, ...kept } = current ?? { at: 0 };
    message.versions.push({ ...kept, ...(markup ? { reply_markup: markup } : {}), at: Date.now() });
    return message;
  }

  private editMessageText(p: Params): StoredMessage {
    const chat = this.chat(p);
    const message = this.find(chat.id, Number(p.message_id));
    if (!message || message.deleted) throw badRequest('message to edit not found');
    if (!message.fromBot) throw badRequest("message can't be edited");
    const text = typeof p.text === 'string' ? p.text : '';
    if (text.trim().length === 0) throw badRequest('message text is empty');
    if (text.length > 4096) throw badRequest('MESSAGE_TOO_LONG');
    const markup = checkMarkup(p.reply_markup);
    const current = message.versions.at(-1);
    if (current?.text === text && JSON.stringify(current.reply_markup ?? null) === JSON.stringify(markup ?? null)) {
      throw badRequest(
        'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
      );
    }
    const now = Date.now();
    if (this.minEditIntervalMs !== undefined) {
      const last = this.lastEditAt.get(chat.id);
      if (last !== undefined && now - last < this.minEditIntervalMs) {
        this.rateLimitedEdits++;
        const retryAfter = Math.max(1, Math.ceil((this.minEditIntervalMs - (now - last)) / 1000));
        throw new ApiError(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
      }
    }
    this.lastEditAt.set(chat.id, now);
    message.versions.push({ text, ...(markup ? { reply_markup: markup } : {}), at: now });
    return message;
  }

  private sendFile(kind: 'video' | 'document', p: Params, upload: Upload | undefined): StoredMessage {
    const chat = this.chat(p);
    const file = upload?.file(kind);
    if (!file) {
      if (typeof p[kind] === 'string') throw badRequest('wrong file identifier/HTTP URL specified');
      throw badRequest(`there is no ${kind} in the request`);
    }
    if (file.bytes.length === 0) throw badRequest('file must be non-empty');
    const caption = typeof p.caption === 'string' ? p.caption : undefined;
    if (caption !== undefined && caption.length > 1024) throw badRequest('message caption is too long');
    const id = randomBytes(12).toString('base64url');
    const markup = checkMarkup(p.reply_markup);
    const message = this.store(chat.id, {
      fromBot: true,
      from: this.bot,
      versions: [{ ...(caption !== undefined ? { caption } : {}), ...(markup ? { reply_markup: markup } : {}), at: Date.now() }],
      params: p,
      ...(upload ? { upload } : {}),
      ...this.placement(chat, p),
    });
    if (kind === 'video') {
      message.video = {
        file_id: `BAAC${id}`,
        file_unique_id: id.slice(0, 8),
        width: Number(p.width ?? 0),
        height: Number(p.height ?? 0),
        duration: Number(p.duration ?? 0),
        file_size: file.bytes.length,
        mime_type: 'video/mp4',
      };
    } else {
      message.document = { file_id: `BQAC${id}`, file_unique_id: id.slice(0, 8), file_name: file.filename, file_size: file.bytes.length };
    }
    return message;
  }

  private getUpdates(p: Params, res: ServerResponse, respond: (updates: Update[]) => void, conflict: () => void): void {
    const offset = p.offset === undefined ? 0 : Number(p.offset);
    const limit = Math.min(100, Math.max(1, p.limit === undefined ? 100 : Number(p.limit)));
    const timeoutSec = p.timeout === undefined ? 0 : Number(p.timeout);
    const allowed = Array.isArray(p.allowed_updates) && p.allowed_updates.length > 0 ? (p.allowed_updates as string[]) : undefined;
    // An offset confirms every update before it: Telegram forgets them.
    if (offset > 0) this.updates = this.updates.filter((u) => u.update_id >= offset);
    const ready = this.pending(offset, limit, allowed);
    if (ready.length > 0 || timeoutSec <= 0) {
      respond(ready);
      return;
    }
    // A new long poll ends the one already waiting, as on the real server.
    this.waiter?.conflict();
    const finish = (updates: Update[]): void => {
      clearTimeout(timer);
      res.off('close', onClose);
      if (this.waiter === waiter) this.waiter = undefined;
      respond(updates);
    };
    const onClose = (): void => {
      clearTimeout(timer);
      if (this.waiter === waiter) this.waiter = undefined;
    };
    const waiter: Waiter = {
      offset,
      limit,
      allowed,
      respond: finish,
      conflict: () => {
        clearTimeout(timer);
        res.off('close', onClose);
        if (this.waiter === waiter) this.waiter = undefined;
        conflict();
      },
    };
    this.waiter = waiter;
    this.changed();
    const timer = setTimeout(() => finish([]), timeoutSec * 1000);
    // The client gave up (a runner stopping): forget this poll.
    res.once('close', onClose);
  }

  private pending(offset: number, limit: number, allowed: string[] | undefined): Update[] {
    return this.updates
      .filter((u) => u.update_id >= offset && (!allowed || Object.keys(u).some((k) => k !== 'update_id' && allowed.includes(k))))
      .slice(0, limit);
  }

  private pushUpdate(body: Record<string, unknown>): void {
    const update: Update = { update_id: this.nextUpdateId++, ...body };
    this.updates.push(update);
    const waiter = this.waiter;
    if (waiter) {
      const ready = this.pending(waiter.offset, waiter.limit, waiter.allowed);
      if (ready.length > 0) waiter.respond(ready);
    }
    this.changed();
  }

  private store(chatId: number, fields: Omit<StoredMessage, 'chatId' | 'messageId' | 'date' | 'deleted'>): StoredMessage {
    const messageId = this.nextMessageId.get(chatId) ?? 1;
    this.nextMessageId.set(chatId, messageId + 1);
    const message: StoredMessage = { chatId, messageId, date: Math.floor(Date.now() / 1000), deleted: false, ...fields };
    const list = this.messages.get(chatId) ?? [];
    list.push(message);
    this.messages.set(chatId, list);
    this.changed();
    return message;
  }

  private find(chatId: number, messageId: number): StoredMessage | undefined {
    return this.messages.get(chatId)?.find((m) => m.messageId === messageId);
  }

  /** The message as the Bot API returns it. */
  private toWire(message: StoredMessage): Record<string, unknown> {
    const chat = this.chats.get(message.chatId);
    const current = message.versions.at(-1);
    const text = current?.text;
    const wire: Record<string, unknown> = {
      message_id: message.messageId,
      from: message.from,
      chat,
      date: message.date,
    };
    if (message.versions.length > 1) wire.edit_date = Math.floor((current?.at ?? Date.now()) / 1000);
    if (message.threadId !== undefined) {
      wire.message_thread_id = message.threadId;
      if (chat?.is_forum) wire.is_topic_message = true;
    }
    if (message.replyToMessageId !== undefined) {
      const replied = this.find(message.chatId, message.replyToMessageId);
      if (replied) wire.reply_to_message = this.toWire({ ...replied, replyToMessageId: undefined });
    }
    if (text !== undefined) {
      wire.text = text;
      const command = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(text);
      if (command && !message.fromBot) wire.entities = [{ type: 'bot_command', offset: 0, length: command[0].length }];
    }
    if (current?.caption !== undefined) wire.caption = current.caption;
    if (current?.reply_markup) wire.reply_markup = current.reply_markup;
    if (message.video) wire.video = message.video;
    if (message.document) wire.document = message.document;
    return wire;
  }

  private changed(): void {
    this.events.emit('change');
  }
}

function checkMarkup(value: unknown): InlineKeyboard | undefined {
  if (value === undefined || value === null) return undefined;
  const markup = value as InlineKeyboard;
  if (!Array.isArray(markup.inline_keyboard)) return undefined;
  for (const row of markup.inline_keyboard) {
    for (const button of row) {
      if (button.callback_data !== undefined && Buffer.byteLength(button.callback_data) > 64) throw badRequest('BUTTON_DATA_INVALID');
      if (!button.text) throw badRequest('text buttons are unallowed in the inline keyboard');
    }
  }
  return markup.inline_keyboard.length > 0 ? markup : undefined;
}

/** Multipart text fields are strings; objects arrive as JSON, as Telegram expects. */
function decodeField(value: string): unknown {
  if (/^[[{]/.test(value)) {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _chunk of req) {
    // discard
  }
}

function parseMultipart(
  req: IncomingMessage,
  limitBytes: number,
): Promise<{ fields: Record<string, string>; files: Record<string, UploadedFile>; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    const files: Record<string, UploadedFile> = {};
    let total = 0;
    let tooLarge = false;
    const parser = busboy({ headers: req.headers, limits: { fieldSize: 1024 * 1024 } });
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        total += chunk.length;
        // Past the limit the rest is read and dropped, so the client still gets the 413 answer.
        if (total > limitBytes) tooLarge = true;
        else chunks.push(chunk);
      });
      stream.on('end', () => {
        if (!tooLarge) files[name] = { field: name, filename: info.filename ?? name, bytes: Buffer.concat(chunks) };
      });
    });
    parser.on('error', reject);
    parser.on('close', () => resolve({ fields, files, tooLarge }));
    req.pipe(parser);
  });
}
