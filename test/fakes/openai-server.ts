/**
 * A fake OpenAI-compatible server over node:http on 127.0.0.1, for driving the REAL `openai` SDK.
 *
 * - POST /v1/chat/completions: SSE streaming (with a final usage chunk when `include_usage`) and
 *   plain JSON; `json_schema` and `json_object` modes. Its "model" writes a plausible script for
 *   the schema it is given, about as long as the request asks for (segment count, language, the
 *   asked words, which it overshoots by 5-20 % as models do, unevenly per segment), and counts usage with a real tokenizer (gpt-tokenizer, o200k).
 * - POST /v1/images/generations: real PNG/JPEG pictures drawn in-process, as b64_json or a URL it serves.
 * - POST /v1/audio/speech: a real WAV, ~2.5 words a second, each word a hum as long as the word
 *   (pauses after commas and sentences), the words' exact times remembered.
 * - POST /v1/audio/transcriptions (multipart): for audio it made, whisper-1's `verbose_json` with
 *   word timestamps as a recogniser gives them: lower case, no punctuation, numbers as words, a
 *   few misheard words, times off by up to ~40 ms (now and then ~120 ms).
 * - GET /v1/models.
 * - Realistic error bodies `{ error: { message, type, param, code } }` and injectable faults.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createHash, randomUUID } from 'node:crypto';
import busboy from 'busboy';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { createCanvas } from '@napi-rs/canvas';
import { countTokens, encodeChat } from 'gpt-tokenizer/encoding/o200k_base';

export type Endpoint = 'chat' | 'images' | 'speech' | 'transcription';

export type Fault =
  | { kind: 'rate_limit'; retryAfter?: string }
  | { kind: 'server_error'; status?: number }
  | { kind: 'unauthorized' }
  | { kind: 'quota' }
  | { kind: 'content_policy' }
  /** Sends part of the stream, then goes silent until the client gives up. */
  | { kind: 'stall'; afterChars?: number }
  /** Text that is not JSON at all. */
  | { kind: 'malformed' }
  /** Valid JSON that breaks the schema (wrong types, missing fields). */
  | { kind: 'schema_break' }
  | { kind: 'refusal' }
  /** Reads the request, then sends nothing at all (not even headers) until the client gives up. */
  | { kind: 'hang_before_headers' }
  /** Images and speech: a 200, its headers and part of the body, then silence until the client gives up. */
  | { kind: 'hang_mid_body' }
  /** Images and speech: a 200 whose body is not the promised JSON (a proxy's page, a cut-off answer). */
  | { kind: 'invalid_json' }
  /** Images: a 200 with well-formed JSON whose picture bytes are not a picture. */
  | { kind: 'garbage_image' }
  /** Speech: a 200 with a valid audio file that holds only silence. */
  | { kind: 'silent_speech' };

/** Picks a fault for a request that has none queued (a soak's random faults); undefined for none. */
export type FaultPlan = (endpoint: Endpoint, body: Record<string, unknown>) => Fault | undefined;

export interface FakeLatency {
  /** Streamed completion speed; undefined streams as fast as the socket allows. */
  tokensPerSec?: number;
  firstTokenMs?: number;
  imageSec?: number;
  speechSec?: number;
}

export interface FakeOpenAiOptions {
  /** When set, any other bearer token gets a 401 `invalid_api_key`. */
  apiKey?: string;
  /** false: answer `json_schema` requests with the 400 that servers without it send. */
  jsonSchema?: boolean;
  latency?: FakeLatency;
  /** Scale of generated pictures (1 = the requested size); tests use less to save CPU. */
  imageScale?: number;
  /** Speech formats served; others get a 400 naming `response_format`. */
  speechFormats?: string[];
  /** Write WAV headers with unknown (0xFFFFFFFF) sizes, as streamed WAV from OpenAI does. */
  streamingWavHeader?: boolean;
  /** Answer image requests with URLs even when base64 was asked (as some compatible servers do). */
  alwaysUrl?: boolean;
  /** Segment count to break in a near-duplicate pair / two-person scene (see `chooseQuirks`). */
  quirks?: 'auto' | 'none' | 'all';
}

export interface LoggedRequest {
  method: string;
  path: string;
  body: Record<string, unknown>;
  status: number;
  authorization: string | undefined;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  /** The client went away before a streamed answer ended (a cancel, or a stall it gave up on). */
  closedEarly?: boolean;
  /** The fault played on this request, if any. */
  fault?: Fault['kind'];
}

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

const MODELS = ['gpt-4o-mini', 'gpt-4.1-mini', 'gpt-image-1', 'gpt-image-1-mini', 'dall-e-3', 'tts-1', 'gpt-4o-mini-tts'];
const VOICES = new Set(['alloy', 'ash', 'ballad', 'coral', 'echo', 'fable', 'onyx', 'nova', 'sage', 'shimmer', 'verse', 'marin', 'cedar']);

export class FakeOpenAiServer {
  readonly requests: LoggedRequest[] = [];
  /** How many pictures each prompt got so far: a repeated prompt gets a different one. */
  private readonly picturesDrawn = new Map<string, number>();
  jsonSchema: boolean;
  latency: FakeLatency;
  quirks: 'auto' | 'none' | 'all';
  /** Consulted when no fault is queued for an endpoint: random faults for a soak. */
  faultPlan: FaultPlan | undefined;
    private readonly faults: Record<Endpoint, Fault[]> = { chat: [], images: [], speech: [], transcription: [] };
  /** What each speech answer said and when, by the hash of its samples (or its MP3 bytes). */
  private readonly spoken = new Map<string, SpokenWord[]>();
  private readonly files = new Map<string, { data: Buffer; type: string }>();
  private readonly sockets = new Set<Socket>();
  private readonly promptHistory: number[][] = [];
  private server: Server | undefined;
  private port = 0;

  private constructor(private readonly options: FakeOpenAiOptions) {
    this.jsonSchema = options.jsonSchema ?? true;
    this.latency = { ...options.latency };
    this.quirks = options.quirks ?? 'auto';
  }

  static async start(options: FakeOpenAiOptions = {}): Promise<FakeOpenAiServer> {
    const fake = new FakeOpenAiServer(options);
    await fake.listen();
    return fake;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The `baseURL` for the SDK. */
  get baseURL(): string {
    return `${this.origin}/v1`;
  }

  /** Queues a fault for the next `times` requests to an endpoint. */
  inject(endpoint: Endpoint, fault: Fault, times = 1): void {
    for (let i = 0; i < times; i++) this.faults[endpoint].push(fault);
  }

  clearFaults(): void {
    for (const list of Object.values(this.faults)) list.length = 0;
  }

  /** Back to how `start` left it, between tests: no faults, an empty request log, the start options. */
  reset(): void {
    this.clearFaults();
    this.requests.length = 0;
    this.picturesDrawn.clear();
    this.jsonSchema = this.options.jsonSchema ?? true;
    this.latency = { ...this.options.latency };
    this.quirks = this.options.quirks ?? 'auto';
    this.faultPlan = undefined;
  }

  requestsTo(endpoint: Endpoint): LoggedRequest[] {
    const path = { chat: '/v1/chat/completions', images: '/v1/images/generations', speech: '/v1/audio/speech', transcription: '/v1/audio/transcriptions' }[endpoint];
    return this.requests.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private listen(): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendError(res, 500, String(error), 'server_error', null);
        else res.destroy();
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server = server;
    return new Promise((resolve) => {
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        this.port = typeof address === 'object' && address ? address.port : 0;
        resolve();
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const raw = await readBody(req);
    let body: Record<string, unknown> = {};
    if (raw.length > 0 && (req.headers['content-type'] ?? '').includes('json')) {
      try {
        body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      } catch {
        return this.reply(req, url, body, res, 400, { error: errorBody('We could not parse the JSON body of your request.', 'invalid_request_error', null, null) });
      }
    }
    const entry: LoggedRequest = { method: req.method ?? 'GET', path: url.pathname, body, status: 200, authorization: req.headers.authorization };
    this.requests.push(entry);

    if (req.method === 'GET' && url.pathname.startsWith('/files/')) {
      const file = this.files.get(url.pathname.slice('/files/'.length));
      if (!file) return this.send(entry, res, 404, { error: errorBody('Not found', 'invalid_request_error', null, null) });
      res.writeHead(200, { 'content-type': file.type, 'content-length': file.data.length });
      res.end(file.data);
      return;
    }
    if (this.options.apiKey !== undefined && req.headers.authorization !== `Bearer ${this.options.apiKey}`) {
      const given = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      return this.send(entry, res, 401, invalidKeyBody(given));
    }
    if (req.method === 'GET' && url.pathname === '/v1/models') {
      return this.send(entry, res, 200, {
        object: 'list',
        data: MODELS.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'fake' })),
      });
    }
    if (req.method === 'POST' && url.pathname === '/v1/chat/completions') return this.chat(entry, body, res);
    if (req.method === 'POST' && url.pathname === '/v1/images/generations') return this.images(entry, body, res);
    if (req.method === 'POST' && url.pathname === '/v1/audio/speech') return this.speech(entry, body, res);
    if (req.method === 'POST' && url.pathname === '/v1/audio/transcriptions') return this.transcription(entry, req, raw, res);
    return this.send(entry, res, 404, { error: errorBody(`Invalid URL (${req.method} ${url.pathname})`, 'invalid_request_error', null, null) });
  }

  private reply(req: IncomingMessage, url: URL, body: Record<string, unknown>, res: ServerResponse, status: number, payload: unknown): void {
    const entry: LoggedRequest = { method: req.method ?? 'GET', path: url.pathname, body, status, authorization: req.headers.authorization };
    this.requests.push(entry);
    this.send(entry, res, status, payload);
  }

  private send(entry: LoggedRequest, res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
    entry.status = status;
    const text = JSON.stringify(payload);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  /** The queued fault for this endpoint, else the plan's pick; noted on the logged request. */
  private nextFault(endpoint: Endpoint, entry: LoggedRequest, body: Record<string, unknown>): Fault | undefined {
    const fault = this.faults[endpoint].shift() ?? this.faultPlan?.(endpoint, body);
    if (fault) entry.fault = fault.kind;
    return fault;
  }

  /** Answers a fault that is a plain HTTP error; returns false for faults the endpoint plays out itself. */
  private sendFault(entry: LoggedRequest, res: ServerResponse, fault: Fault, model: string): boolean {
    switch (fault.kind) {
      case 'hang_before_headers':
        // Nothing is written; the socket stays open until the client aborts or close() ends it.
        res.on('close', () => {
          entry.closedEarly = true;
        });
        entry.status = 0;
        return true;
      case 'rate_limit':
        this.send(
          entry,
          res,
          429,
          { error: errorBody(`Rate limit reached for ${model} on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 1s.`, 'requests', null, 'rate_limit_exceeded') },
          fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {},
        );
        return true;
      case 'server_error':
        this.send(entry, res, fault.status ?? 500, { error: errorBody('The server had an error while processing your request. Sorry about that!', 'server_error', null, null) });
        return true;
      case 'unauthorized':
        this.send(entry, res, 401, invalidKeyBody((entry.authorization ?? '').replace(/^Bearer /, '')));
        return true;
      case 'quota':
        this.send(entry, res, 429, {
          error: errorBody('You exceeded your current quota, please check your plan and billing details.', 'insufficient_quota', null, 'insufficient_quota'),
        });
        return true;
      case 'content_policy':
        this.send(entry, res, 400, {
          error: errorBody('Your request was rejected as a result of our safety system.', 'image_generation_user_error', null, 'content_policy_violation'),
        });
        return true;
      default:
        return false;
    }
  }

  // ------------------------------------------------------------ chat

  private async chat(entry: LoggedRequest, body: Record<string, unknown>, res: ServerResponse): Promise<void> {
    const model = typeof body.model === 'string' ? body.model : '';
    const messages = Array.isArray(body.messages) ? (body.messages as Array<{ role: string; content: unknown }>) : [];
    if (!model || messages.length === 0) {
      return this.send(entry, res, 400, { error: errorBody("Missing required parameter: 'messages'.", 'invalid_request_error', 'messages', 'missing_required_parameter') });
    }
    const format = (body.response_format ?? { type: 'text' }) as { type: string; json_schema?: { schema?: unknown; name?: string; strict?: boolean } };
    if (format.type === 'json_schema' && !this.jsonSchema) {
      return this.send(entry, res, 400, {
        error: errorBody("Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.", 'invalid_request_error', 'response_format', null),
      });
    }
    const texts = messages.map((m) => ({ role: m.role, content: typeof m.content === 'string' ? m.content : JSON.stringify(m.content) }));
    if (format.type === 'json_object' && !texts.some((m) => /json/i.test(m.content))) {
      return this.send(entry, res, 400, {
        error: errorBody("'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.", 'invalid_request_error', 'messages', null),
      });
    }
    const fault = this.nextFault('chat', entry, body);
    if (fault && this.sendFault(entry, res, fault, model)) return;

    const schema = format.type === 'json_schema' ? format.json_schema?.schema : format.type === 'json_object' ? schemaFromMessages(texts) : undefined;
    let content = writeReply(texts, schema, this.quirks);
    if (fault?.kind === 'malformed' || fault?.kind === 'invalid_json') content = `${content.slice(0, Math.floor(content.length / 2))}\n}}] oops, not JSON <<<`;
    if (fault?.kind === 'schema_break') content = breakSchema(content);
    const refusal = fault?.kind === 'refusal' ? "I'm sorry, but I can't help with that request." : null;
    if (refusal) content = '';

    const usage = this.countUsage(model, texts, format.type === 'json_schema' ? format.json_schema?.schema : undefined, refusal ?? content);
    entry.usage = { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens, total_tokens: usage.total_tokens };
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);

    if (body.stream !== true) {
      await delay(this.completionDelayMs(usage.completion_tokens));
      return this.send(entry, res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: refusal ? null : content, refusal }, logprobs: null, finish_reason: 'stop' }],
        usage,
        system_fingerprint: 'fp_fake',
      });
    }

    entry.status = 200;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake', choices, ...extra })}\n\n`;
    const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    await delay(this.latency.firstTokenMs ?? 0);
    res.write(chunk([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]));
    const payload = refusal ?? content;
    const pieces = splitForStream(payload);
    const stallAt = fault?.kind === 'stall' ? (fault.afterChars ?? Math.floor(payload.length / 3)) : fault?.kind === 'hang_mid_body' ? Math.floor(payload.length / 3) : Infinity;
    let sentChars = 0;
    res.on('close', () => {
      if (!res.writableEnded) entry.closedEarly = true;
    });
    for (const piece of pieces) {
      if (res.destroyed) return;
      if (sentChars >= stallAt) {
        // Silent until the client aborts; close() destroys the socket at the end of the test.
        await new Promise<void>((resolve) => res.on('close', () => resolve()));
        return;
      }
      const delta = refusal ? { refusal: piece } : { content: piece };
      res.write(chunk([{ index: 0, delta, logprobs: null, finish_reason: null }]));
      sentChars += piece.length;
      await delay(this.completionDelayMs(Math.max(1, Math.round(piece.length / 4))));
    }
    res.write(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }], includeUsage ? { usage: null } : {}));
    if (includeUsage) res.write(chunk([], { usage }));
    res.end('data: [DONE]\n\n');
  }

  private completionDelayMs(tokens: number): number {
    const rate = this.latency.tokensPerSec;
    return rate ? (tokens / rate) * 1000 : 0;
  }

  /**
   * Prompt tokens: the chat messages as the model sees them plus the JSON schema (which OpenAI also
   * feeds to the model); prefixes of 1,024+ tokens seen before count as cached, in steps of 128.
   */
  private countUsage(model: string, messages: Array<{ role: string; content: string }>, schema: unknown, completion: string): Usage {
    const chat = encodeChat(
      messages.map((m) => ({ role: m.role as 'system' | 'user' | 'assistant', content: m.content })),
      'gpt-4o',
    );
    const promptTokens = chat.length + (schema ? countTokens(JSON.stringify(schema)) : 0);
    let cached = 0;
    for (const previous of this.promptHistory) {
      let common = 0;
      while (common < previous.length && common < chat.length && previous[common] === chat[common]) common++;
      if (common >= 1024) cached = Math.max(cached, Math.floor(common / 128) * 128);
    }
    this.promptHistory.push(chat);
    void model;
    const completionTokens = completion ? countTokens(completion) : 0;
    return {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: cached },
      completion_tokens_details: { reasoning_tokens: 0 },
    };
  }

  // ------------------------------------------------------------ images

  private async images(entry: LoggedRequest, body: Record<string, unknown>, res: ServerResponse): Promise<void> {
    const model = typeof body.model === 'string' ? body.model : 'dall-e-2';
    const prompt = typeof body.prompt === 'string' ? body.prompt : '';
    const gptImage = model.startsWith('gpt-image');
    const invalid = (message: string, param: string): void =>
      this.send(entry, res, 400, { error: errorBody(message, 'invalid_request_error', param, 'invalid_value') });
    if (!prompt) return invalid("Missing required parameter: 'prompt'.", 'prompt');
    if (prompt.length > (gptImage ? 32_000 : 4_000)) return invalid('The prompt is too long.', 'prompt');
    const sizes = gptImage ? ['1024x1024', '1024x1536', '1536x1024', 'auto'] : model === 'dall-e-3' ? ['1024x1024', '1024x1792', '1792x1024'] : ['256x256', '512x512', '1024x1024'];
    const size = typeof body.size === 'string' ? body.size : gptImage ? 'auto' : '1024x1024';
    if (!sizes.includes(size)) return invalid(`Invalid value: '${size}'. Supported values are: ${sizes.map((s) => `'${s}'`).join(', ')}.`, 'size');
    if (gptImage && body.response_format !== undefined) return invalid("Unknown parameter: 'response_format'.", 'response_format');
    if (!gptImage && body.output_format !== undefined) return invalid("Unknown parameter: 'output_format'.", 'output_format');
    const qualities = gptImage ? ['low', 'medium', 'high', 'auto'] : model === 'dall-e-3' ? ['standard', 'hd'] : ['standard'];
    const quality = typeof body.quality === 'string' ? body.quality : undefined;
    if (body.quality !== undefined && (!quality || !qualities.includes(quality))) {
      return invalid(`Invalid value: '${quality ?? '?'}'. Supported values are: ${qualities.map((q) => `'${q}'`).join(', ')}.`, 'quality');
    }
    const fault = this.nextFault('images', entry, body);
    if (fault) {
      if (fault.kind === 'content_policy' && gptImage) {
        return this.send(entry, res, 400, {
          error: errorBody('Your request was rejected by the safety system. safety_violations=[violence].', 'image_generation_user_error', null, 'moderation_blocked'),
        });
      }
      if (this.sendFault(entry, res, fault, model)) return;
    }
    const [w, h] = (size === 'auto' ? '1024x1536' : size).split('x').map(Number) as [number, number];
    const format = gptImage && typeof body.output_format === 'string' ? body.output_format : 'png';
    await delay((this.latency.imageSec ?? 0) * 1000);
    // Like a real image model, the same prompt asked again gives another picture (a re-roll).
    const take = this.picturesDrawn.get(prompt) ?? 0;
    this.picturesDrawn.set(prompt, take + 1);
    const picture =
      fault?.kind === 'garbage_image'
        ? garbageBytes(prompt)
        : drawPicture(take === 0 ? prompt : `${prompt}#${take}`, prompt, w, h, this.options.imageScale ?? 1, format === 'jpeg' ? 'jpeg' : format === 'webp' ? 'webp' : 'png');
    const created = Math.floor(Date.now() / 1000);
    if (fault?.kind === 'invalid_json' || fault?.kind === 'hang_mid_body') {
      const text = JSON.stringify({ created, data: [{ b64_json: picture.toString('base64') }] });
      return this.sendBroken(entry, res, 'application/json', Buffer.from(text), fault.kind);
    }
    if (!gptImage && (body.response_format !== 'b64_json' || this.options.alwaysUrl)) {
      const name = `${randomUUID()}.png`;
      this.files.set(name, { data: picture, type: 'image/png' });
      return this.send(entry, res, 200, { created, data: [{ url: `${this.origin}/files/${name}`, revised_prompt: prompt }] });
    }
    return this.send(entry, res, 200, {
      created,
      data: [{ b64_json: picture.toString('base64'), ...(gptImage ? {} : { revised_prompt: prompt }) }],
      ...(gptImage ? { usage: { input_tokens: countTokens(prompt), output_tokens: 272, total_tokens: countTokens(prompt) + 272 } } : {}),
    });
  }

  // ------------------------------------------------------------ speech

  private async speech(entry: LoggedRequest, body: Record<string, unknown>, res: ServerResponse): Promise<void> {
    const input = typeof body.input === 'string' ? body.input : '';
    const voice = typeof body.voice === 'string' ? body.voice : '';
    const format = typeof body.response_format === 'string' ? body.response_format : 'mp3';
    const invalid = (message: string, param: string): void =>
      this.send(entry, res, 400, { error: errorBody(message, 'invalid_request_error', param, 'invalid_value') });
    if (!input) return invalid("Missing required parameter: 'input'.", 'input');
    if (input.length > 4096) return invalid("'input' is too long: at most 4096 characters.", 'input');
    if (!VOICES.has(voice)) return invalid(`Invalid value: '${voice}'.`, 'voice');
    const formats = this.options.speechFormats ?? ['wav', 'pcm'];
    if (!formats.includes(format)) return invalid(`Invalid value: '${format}'. This server supports ${formats.join(', ')}.`, 'response_format');
    const fault = this.nextFault('speech', entry, body);
    if (fault && this.sendFault(entry, res, fault, String(body.model))) return;
    await delay((this.latency.speechSec ?? 0) * 1000);
    const speed = typeof body.speed === 'number' ? body.speed : 1;
    const { pcm, words } = speak(input, speed);
    if (fault?.kind === 'silent_speech') pcm.fill(0);
    const data = format === 'pcm' ? pcm : format === 'mp3' ? mp3File(pcm) : wavFile(pcm, 24_000, this.options.streamingWavHeader ?? true);
    this.spoken.set(sha(format === 'mp3' ? data : pcm), words);
    entry.status = 200;
    const type = { pcm: 'audio/pcm', mp3: 'audio/mpeg' }[format] ?? 'audio/wav';
    if (fault?.kind === 'hang_mid_body' || fault?.kind === 'invalid_json') {
      // Audio has no JSON: an "invalid" answer is an error page served with a 200 by a proxy.
      const page = fault.kind === 'invalid_json' ? Buffer.from('<html><body><h1>502 Bad Gateway</h1></body></html>') : data;
      return this.sendBroken(entry, res, fault.kind === 'invalid_json' ? 'text/html' : type, page, fault.kind);
    }
    res.writeHead(200, { 'content-type': type, 'transfer-encoding': 'chunked' });
    res.end(data);
  }

  /**
   * A 200 that goes wrong: `invalid_json` sends a body cut in the middle (the whole answer as far as
   * the client can tell); `hang_mid_body` sends the headers and part of the body, then goes silent
   * until the client gives up or close() ends the socket.
   */
  private sendBroken(entry: LoggedRequest, res: ServerResponse, type: string, body: Buffer, kind: 'invalid_json' | 'hang_mid_body'): void {
    entry.status = 200;
    if (kind === 'invalid_json') {
      const cut = type.includes('json') ? body.subarray(0, Math.max(1, Math.floor(body.length / 2))) : body;
      res.writeHead(200, { 'content-type': type, 'content-length': cut.length });
      res.end(cut);
      return;
    }
    res.on('close', () => {
      if (!res.writableEnded) entry.closedEarly = true;
    });
    res.writeHead(200, { 'content-type': type, 'content-length': body.length });
    res.write(body.subarray(0, Math.floor(body.length / 3)));
  }

  /** The exact word times of audio this server spoke (ground truth for tests and the bench). */
  spokenWords(audio: Buffer): SpokenWord[] | undefined {
    return this.spoken.get(sha(audio)) ?? this.spoken.get(sha(pcmOfWav(audio) ?? Buffer.alloc(0)));
  }

  // ------------------------------------------------------------ transcription

  private async transcription(entry: LoggedRequest, req: IncomingMessage, raw: Buffer, res: ServerResponse): Promise<void> {
    const invalid = (message: string, param: string | null): void =>
      this.send(entry, res, 400, { error: errorBody(message, 'invalid_request_error', param, null) });
    if (!(req.headers['content-type'] ?? '').startsWith('multipart/form-data')) return invalid('Invalid Content-Type header, expected multipart/form-data.', null);
    const form = await readForm(req, raw);
    // The audio by its hash: two requests are the same call only when they send the same sound.
    entry.body = { ...form.fields, file: form.file ? `${form.file.length} bytes, sha256 ${sha(form.file).slice(0, 16)}` : undefined };
    const model = form.fields.model;
    if (!model) return invalid("Missing required parameter: 'model'.", 'model');
    if (!form.file) return invalid("Missing required parameter: 'file'.", 'file');
    const fault = this.nextFault('transcription', entry, form.fields);
    if (fault && this.sendFault(entry, res, fault, model)) return;
    const pcm = pcmOfWav(form.file);
    if (!pcm && form.file.subarray(0, 3).toString('latin1') !== 'ID3' && (form.file[0] ?? 0) !== 0xff) {
      return invalid('The audio file could not be decoded or its format is not supported.', 'file');
    }
    const truth = this.spokenWords(form.file) ?? [];
    const durationSec = pcm ? pcm.length / 2 / 24_000 : (truth.at(-1)?.end ?? 0);
    const heard = recognise(truth);
    const wantsWords = form.fields.response_format === 'verbose_json' && (form.fields['timestamp_granularities[]'] ?? '').includes('word');
    const text = heard.map((w) => w.word).join(' ');
    entry.status = 200;
    if (form.fields.response_format !== 'verbose_json') return this.send(entry, res, 200, { text });
    return this.send(entry, res, 200, {
      task: 'transcribe',
      language: form.fields.language === 'ru' ? 'russian' : 'english',
      duration: Math.round(durationSec * 100) / 100,
      text,
      ...(wantsWords ? { words: heard } : {}),
    });
  }
}

export interface SpokenWord {
  word: string;
  start: number;
  end: number;
}

function sha(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The samples of a 16-bit WAV (sizes may be unknown, as in streamed WAV), or undefined. */
function pcmOfWav(data: Buffer): Buffer | undefined {
  if (data.length < 12 || data.toString('ascii', 0, 4) !== 'RIFF' || data.toString('ascii', 8, 12) !== 'WAVE') return undefined;
  let offset = 12;
  while (offset + 8 <= data.length) {
    const id = data.toString('ascii', offset, offset + 4);
    const size = data.readUInt32LE(offset + 4);
    if (id === 'data') return data.subarray(offset + 8, size === 0xffffffff ? data.length : Math.min(data.length, offset + 8 + size));
    offset += 8 + size + (size % 2);
  }
  return undefined;
}

async function readForm(req: IncomingMessage, raw: Buffer): Promise<{ fields: Record<string, string>; file?: Buffer }> {
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    let file: Buffer | undefined;
    const parser = busboy({ headers: req.headers, defParamCharset: 'utf8' });
    parser.on('field', (name, value) => {
      fields[name] = fields[name] ? `${fields[name]},${value}` : value;
    });
    parser.on('file', (_name, stream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => (file = Buffer.concat(chunks)));
    });
    parser.on('error', reject);
    parser.on('close', () => resolve({ fields, ...(file ? { file } : {}) }));
    parser.end(raw);
  });
}

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

/**
 * What a recogniser hears in words spoken at known times: lower case and no punctuation, a number
 * as words (its time shared out), every seventh word misheard by a letter, and times off by a
 * deterministic ~±40 ms (every eleventh word ~120 ms late).
 */
function recognise(truth: readonly SpokenWord[]): SpokenWord[] {
  const out: SpokenWord[] = [];
  truth.forEach((w, i) => {
    const jitter = (k: number): number => (((i * 7919 + k * 104729) % 81) - 40) / 1000;
    const late = i % 11 === 5 ? 0.12 : 0;
    const bare = w.word.toLowerCase().replace(/[^\p{L}\p{N}'-]/gu, '');
    if (!bare) return;
    const start = Math.max(0, w.start + jitter(1) + late);
    const end = Math.max(start + 0.05, w.end + jitter(2));
    if (/^\d+$/.test(bare)) {
      const parts = [...bare].map((d) => ONES[Number(d)] ?? d);
      const step = (end - start) / parts.length;
      parts.forEach((p, k) => out.push({ word: p, start: round3(start + k * step), end: round3(start + (k + 1) * step) }));
      return;
    }
    const heard = i % 7 === 3 && bare.length > 4 ? bare.slice(0, 2) + bare.slice(3) : bare;
    out.push({ word: heard, start: round3(start), end: round3(end) });
  });
  return out;
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** Bytes that are no picture format at all, the same for the same prompt. */
function garbageBytes(prompt: string): Buffer {
  const random = seeded(`garbage:${prompt}`);
  return Buffer.from(Array.from({ length: 4096 }, () => Math.floor(random() * 256)));
}

// ---------------------------------------------------------------- the fake model

interface Hints {
  topic: string;
  lang: string;
  seconds: number;
  segments: number;
  words: number;
  avoid: number;
  narration: string[];
  fixes: Array<{ index: number; line: string }>;
}

function readHints(messages: Array<{ role: string; content: string }>): Hints {
  const user = [...messages].reverse().find((m) => m.role === 'user' && !/^That JSON was invalid/.test(m.content))?.content ?? '';
  const first = messages.find((m) => m.role === 'user')?.content ?? user;
  const text = first;
  const topic = /^Topic:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? (text.split('\n')[0] ?? 'a story').slice(0, 80);
  const lang = /^Language:\s*([a-z]{2,3})/m.exec(text)?.[1] ?? (/[\u0400-\u04ff]/.test(topic) ? 'ru' : 'en');
  const length = /(\d+)\s*s,\s*(\d+)\s*segments,\s*~?(\d+)\s*words/.exec(text);
  const seconds = Number(length?.[1] ?? 30);
  const narration = [...text.matchAll(/^\d+\.\s+(.+)$/gm)].map((m) => m[1] ?? '');
  const segments = narration.length || Number(length?.[2] ?? Math.max(3, Math.round(seconds / 5)));
  const words = Number(length?.[3] ?? Math.round(seconds * 2.5));
  const avoid = Number(/Avoid list: max (\d+)/.exec(text)?.[1] ?? 3);
  const fixes = [...text.matchAll(/^#(\d+)\s+(.+)$/gm)].map((m) => ({ index: Number(m[1]), line: m[2] ?? '' }));
  return { topic, lang, seconds, segments, words, avoid, narration, fixes };
}

/** In json_object mode the schema travels in the user message (after "JSON Schema"). */
function schemaFromMessages(messages: Array<{ role: string; content: string }>): unknown {
  for (const m of messages) {
    const at = m.content.indexOf('JSON Schema');
    if (at < 0) continue;
    const start = m.content.indexOf('{', at);
    const end = m.content.lastIndexOf('}');
    if (start < 0 || end < start) continue;
    try {
      return JSON.parse(m.content.slice(start, end + 1));
    } catch {
      continue;
    }
  }
  return undefined;
}

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
};

/** A deterministic pseudo-random stream from a string. */
function seeded(seed: string): () => number {
  let h = 2166136261;
  for (const ch of seed) h = Math.imul(h ^ ch.codePointAt(0)!, 16777619);
  return () => {
    h = Math.imul(h ^ (h >>> 15), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    h ^= h >>> 16;
    return (h >>> 0) / 4294967296;
  };
}

const EN_WORDS =
  'the city walls stood against a storm of fire and iron while soldiers watched the harbour at dawn every stone carried a memory of empire and its people prayed for one more morning the sultan gathered cannons larger than any seen before and merchants fled with what they could carry through narrow streets under a grey sky history turned on that single moment of courage and fear as bells rang across the old churches'.split(' ');
const RU_WORDS =
  'город стены стояли против бури огня и железа пока воины смотрели на гавань на рассвете каждый камень хранил память империи а люди молились о ещё одном утре правитель собрал пушки больше всех прежних и купцы бежали по узким улицам под серым небом история повернулась в этот миг мужества и страха когда звонили колокола старых храмов'.split(' ');
const SHOTS = ['Wide shot', 'Close-up', 'Low-angle view', 'Aerial view', 'Over-the-shoulder view', 'Medium shot', 'Silhouette', 'Detail shot', 'Panorama', 'Tracking shot', 'High-angle view', 'Portrait'];
const SUBJECTS = ['a lone sentry', 'merchant ships', 'a crowded market', 'an old cathedral dome', 'a war council', 'a candlelit scriptorium', 'cannon crews', 'refugees with carts', 'a harbour chain', 'a burning gate', 'a quiet monastery garden', 'a messenger on horseback', 'stone ramparts', 'a royal banner', 'a field camp', 'a mosaic of saints'];
const ACTIONS = ['bracing against the wind', 'moving through smoke', 'gathered in silence', 'lit by torches', 'seen from far away', 'half hidden in mist', 'under falling ash', 'reflected in water', 'beside scattered weapons', 'framed by arches', 'surrounded by crowds', 'at rest after battle'];
const SETTINGS = ['on the city walls', 'by the Golden Horn', 'in a narrow alley', 'inside a vaulted hall', 'on a windswept hill', 'at the harbour', 'in a ruined courtyard', 'near the great gate', 'in a torchlit tunnel', 'across the bay', 'in an open square', 'beneath a stormy sky'];
const LIGHTS = ['golden dawn light', 'cold blue dusk', 'flickering firelight', 'hazy noon sun', 'moonlight', 'dramatic storm light', 'soft candlelight', 'red sunset glow'];
const DETAILS = ['15th-century armour', 'weathered stone textures', 'billowing smoke', 'period clothing', 'fluttering pennants', 'wet cobblestones', 'cracked frescoes', 'ornate brass lamps'];
const NAMES_EN = ['Mehmed II', 'Constantine XI', 'Giovanni Giustiniani', 'Loukas Notaras', 'Orhan Celebi'];
const NAMES_RU = ['Пётр I', 'Екатерина I', 'Александр Меншиков', 'Карл XII'];
const AVOID = ['modern buildings', 'firearms of later centuries', 'cars or electric lights', 'wrong flags', 'anachronistic uniforms', 'text or captions'];

interface Quirks {
  twoPeopleAt: number;
  duplicate: { of: number; at: number } | undefined;
}

/** Models do sometimes repeat a scene or crowd two people into one picture; the fake does too, by topic. */
function chooseQuirks(hints: Hints, mode: 'auto' | 'none' | 'all'): Quirks {
  const n = hints.segments;
  if (mode === 'none' || n < 4) return { twoPeopleAt: -1, duplicate: undefined };
  const r = seeded(`quirks:${hints.topic}`)();
  const two = mode === 'all' || r < 0.7;
  const dup = mode === 'all' || (r > 0.3 && n >= 8);
  return { twoPeopleAt: two ? Math.floor(n / 2) : -1, duplicate: dup ? { of: 1, at: n - 2 } : undefined };
}

function imagePrompt(i: number, random: () => number, person?: string): string {
  const pick = <T>(list: readonly T[], k: number): T => list[(i * k + Math.floor(random() * 3)) % list.length]!;
  const subject = person ? `${person}` : pick(SUBJECTS, 5);
  return `${pick(SHOTS, 7)} of ${subject} ${pick(ACTIONS, 5)} ${pick(SETTINGS, 7)}, ${pick(LIGHTS, 3)}, ${pick(DETAILS, 5)}, cinematic painting`;
}

function sentenceWords(count: number, random: () => number, vocabulary: string[], topicWords: string[]): string {
  const words: string[] = [];
  let sinceStop = 0;
  for (let i = 0; i < count; i++) {
    const fromTopic = topicWords.length > 0 && random() < 0.12;
    let word = fromTopic ? topicWords[Math.floor(random() * topicWords.length)]! : vocabulary[Math.floor(random() * vocabulary.length)]!;
    if (sinceStop === 0) word = word.charAt(0).toUpperCase() + word.slice(1);
    sinceStop++;
    const end = i === count - 1 || (sinceStop >= 8 && random() < 0.3);
    words.push(end ? `${word}.` : random() < 0.08 ? `${word},` : word);
    if (end) sinceStop = 0;
  }
  return words.join(' ');
}

function writeReply(messages: Array<{ role: string; content: string }>, schema: unknown, quirksMode: 'auto' | 'none' | 'all'): string {
  const hints = readHints(messages);
  // Another take in the prompt is another answer, as with a real model.
  const take = /^Take:\s*(\d+)/m.exec(messages.map((m) => m.content).join('\n'))?.[1];
  const random = seeded(`${hints.topic}:${hints.seconds}:${messages.length}${take ? `:take${take}` : ''}`);
  const quirks = chooseQuirks(hints, quirksMode);
  const ru = hints.lang === 'ru';
  const names = ru ? NAMES_RU : NAMES_EN;
  const people = names.slice(0, 2 + Math.floor(random() * 2));
  const topicWords = hints.topic.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 3);
  // Models follow the asked word count loosely: a little over in all (5-20 %, by topic and length),
  // and each segment anywhere from a quarter under to a quarter over its share.
  const overshoot = 1.05 + 0.15 * seeded(`length:${hints.topic}:${hints.seconds}`)();
  const share = (hints.words * overshoot) / Math.max(1, hints.segments);
  const perSegment = (index: number): number => Math.max(3, Math.round(share * (0.75 + 0.5 * seeded(`segment:${hints.topic}:${index}`)())));
  const prompts: string[] = [];

  const gen = (node: JsonSchema | undefined, key: string, parent: string, index: number): unknown => {
    if (!node) return null;
    if (node.anyOf) return gen(node.anyOf.find((s) => s.type !== 'null') ?? node.anyOf[0], key, parent, index);
    const type = Array.isArray(node.type) ? node.type.find((t) => t !== 'null') : node.type;
    if (node.enum) return node.enum[Math.floor(random() * node.enum.length)];
    if (type === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, child] of Object.entries(node.properties ?? {})) out[k] = gen(child, k, key, index);
      return out;
    }
    if (type === 'array') {
      let count: number;
      if (key === 'segments') count = hints.segments;
      else if (key === 'prompts') count = hints.fixes.length;
      else if (key === 'people') count = parent === 'context' ? people.length : -1;
      else if (key === 'avoid') count = Math.min(hints.avoid, AVOID.length);
      else if (key === 'characters') count = people.length;
      else count = 2;
      if (key === 'people' && parent !== 'context') {
        if (index === quirks.twoPeopleAt) return people.slice(0, 2);
        return index % 3 === 0 ? [people[index % people.length]] : [];
      }
      return Array.from({ length: count }, (_, i) => gen(node.items, key === 'avoid' ? 'avoidItem' : key, key, i));
    }
    if (type === 'integer' || type === 'number') return key === 'index' ? (hints.fixes[index]?.index ?? index) : 1;
    if (type === 'boolean') return true;
    switch (key) {
      case 'title':
        return ru ? `${hints.topic}: как это было` : `${hints.topic}: The Day Everything Changed`;
      case 'era':
        return ru ? 'начало XVIII века' : '15th century';
      case 'region':
        return ru ? 'Россия, Балтика' : 'Eastern Mediterranean';
      case 'style':
        return 'cinematic oil painting, warm dramatic light, rich texture';
      case 'characters':
      case 'people':
        return people[index % people.length];
      case 'name':
        return people[index % people.length];
      case 'look':
        return 'about 40, sharp features, dark beard, fur-trimmed red kaftan, gold chain';
      case 'avoidItem':
        return AVOID[index % AVOID.length];
      case 'keywords':
        return topicWords.slice(0, 2).concat(['scene']).slice(0, 3).join(' ');
      case 'narration':
        return sentenceWords(perSegment(index), random, ru ? RU_WORDS : EN_WORDS, topicWords);
      case 'imagePrompt': {
        if (parent === 'prompts') return imagePrompt(hints.fixes[index]?.index ?? index + 20, random, undefined).replace('cinematic painting', 'seen from a new angle');
        let prompt: string;
        if (index === quirks.twoPeopleAt) prompt = `${people[0]} and ${people[1]} facing each other ${SETTINGS[index % SETTINGS.length]}, ${LIGHTS[index % LIGHTS.length]}, cinematic painting`;
        else if (quirks.duplicate && index === quirks.duplicate.at && prompts[quirks.duplicate.of]) prompt = prompts[quirks.duplicate.of]!.replace(/, cinematic painting$/, ', cinematic oil painting');
        else prompt = imagePrompt(index, random, index % 3 === 0 ? people[index % people.length] : undefined);
        prompts[index] = prompt;
        return prompt;
      }
      default:
        return sentenceWords(6, random, EN_WORDS, topicWords);
    }
  };
  if (!schema || typeof schema !== 'object') return JSON.stringify({ text: sentenceWords(hints.words, random, ru ? RU_WORDS : EN_WORDS, topicWords) });
  return JSON.stringify(gen(schema, '', '', 0));
}

function breakSchema(content: string): string {
  try {
    const value = JSON.parse(content) as Record<string, unknown>;
    value.mood = 'furious';
    if (Array.isArray(value.segments)) value.segments = (value.segments as Array<Record<string, unknown>>).map(({ imagePrompt: _drop, ...rest }) => ({ ...rest, image: 42 }));
    if (Array.isArray(value.prompts)) value.prompts = 'none';
    return JSON.stringify(value);
  } catch {
    return '{"unexpected": true}';
  }
}

/** Pieces of a few tokens each, like a real stream (a JSON value often splits across pieces). */
function splitForStream(text: string): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += 14) pieces.push(text.slice(i, i + 14));
  return pieces;
}

// ---------------------------------------------------------------- media

function drawPicture(seed: string, prompt: string, width: number, height: number, scale: number, format: 'png' | 'jpeg' | 'webp'): Buffer {
  const w = Math.max(16, Math.round(width * scale));
  const h = Math.max(16, Math.round(height * scale));
  const canvas = createCanvas(w, h);
  const ctx = canvas.getContext('2d');
  const random = seeded(seed);
  const hue = Math.floor(random() * 360);
  const gradient = ctx.createLinearGradient(0, 0, w, h);
  gradient.addColorStop(0, `hsl(${hue}, 55%, 35%)`);
  gradient.addColorStop(1, `hsl(${(hue + 60) % 360}, 60%, 15%)`);
  ctx.fillStyle = gradient;
  ctx.fillRect(0, 0, w, h);
  for (let i = 0; i < 6; i++) {
    ctx.fillStyle = `hsla(${(hue + i * 40) % 360}, 70%, 60%, 0.35)`;
    ctx.beginPath();
    ctx.arc(random() * w, random() * h, (0.05 + random() * 0.2) * Math.min(w, h), 0, Math.PI * 2);
    ctx.fill();
  }
  ctx.fillStyle = 'rgba(255,255,255,0.85)';
  ctx.font = `${Math.max(10, Math.round(w / 24))}px sans-serif`;
  const words = prompt.split(/\s+/).slice(0, 12);
  for (let line = 0; line * 4 < words.length; line++) {
    ctx.fillText(words.slice(line * 4, line * 4 + 4).join(' '), w * 0.06, h * 0.7 + line * (w / 18));
  }
  return format === 'png' ? canvas.encodeSync('png') : canvas.encodeSync(format, 80);
}

/** 16-bit mono PCM at 24 kHz: a voiced hum for each word, ~2.5 words a second. */
/**
 * ~2.5 words a second in all (as before), each word a 180 Hz hum as long as the word is long,
 * with a short pause between words and longer ones after commas and sentence ends.
 */
function speak(text: string, speed: number): { pcm: Buffer; words: SpokenWord[] } {
  const rate = 24_000;
  const tokens = text.split(/\s+/).filter(Boolean);
  const seconds = Math.max(0.4, tokens.length / 2.5 / speed);
  const samples = Math.round(seconds * rate);
  const pcm = Buffer.alloc(samples * 2);
  const lengths = tokens.map((t) => 0.3 + 0.07 * t.replace(/[^\p{L}\p{N}]/gu, '').length);
  const pauses = tokens.map((t, i) => (i === tokens.length - 1 ? 0.05 : /[.!?…]["'»”]?$/u.test(t) ? 0.45 : /[,;:—]$/u.test(t) ? 0.25 : 0.06));
  const scale = seconds / (lengths.reduce((a, b) => a + b, 0) + pauses.reduce((a, b) => a + b, 0));
  const words: SpokenWord[] = [];
  let t = 0;
  tokens.forEach((token, i) => {
    const length = lengths[i]! * scale;
    const from = Math.round(t * rate);
    const to = Math.min(samples, Math.round((t + length) * rate));
    for (let k = from; k < to; k++) {
      const at = (k - from) / Math.max(1, to - from);
      pcm.writeInt16LE(Math.round(Math.sin(at * Math.PI) * 6000 * Math.sin((2 * Math.PI * 180 * k) / rate)), k * 2);
    }
    words.push({ word: token, start: round3(t), end: round3(t + length) });
    t += length + pauses[i]! * scale;
  });
  return { pcm, words };
}

function wavFile(pcm: Buffer, sampleRate: number, unknownSizes: boolean): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(unknownSizes ? 0xffffffff : 36 + pcm.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(unknownSizes ? 0xffffffff : pcm.length, 40);
  return Buffer.concat([header, pcm]);
}

/** A real MP3, encoded by the system ffmpeg. */
function mp3File(pcm: Buffer): Buffer {
  const result = spawnSync('ffmpeg', ['-v', 'error', '-f', 's16le', '-ar', '24000', '-ac', '1', '-i', 'pipe:0', '-f', 'mp3', 'pipe:1'], {
    input: pcm,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`ffmpeg failed: ${result.stderr.toString()}`);
  return result.stdout;
}

// ---------------------------------------------------------------- http helpers

function errorBody(message: string, type: string, param: string | null, code: string | null): { message: string; type: string; param: string | null; code: string | null } {
  return { message, type, param, code };
}

function invalidKeyBody(given: string): unknown {
  const masked = given.length > 8 ? `${given.slice(0, 3)}*********${given.slice(-4)}` : '***';
  return {
    error: errorBody(
      `Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      'invalid_request_error',
      null,
      'invalid_api_key',
    ),
  };
}

function sendError(res: ServerResponse, status: number, message: string, type: string, code: string | null): void {
  const text = JSON.stringify({ error: errorBody(message, type, null, code) });
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

// Run alone for manual checks: `node bin/run-ts.mjs test/fakes/openai-server.ts` prints the base URL.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const fake = await FakeOpenAiServer.start({ latency: { tokensPerSec: 400 } });
  console.log(`fake OpenAI server: OPENAI_BASE_URL=${fake.baseURL}`);
  const stop = (): void => void fake.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
