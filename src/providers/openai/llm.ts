/**
 * Chat completions, always streamed, with structured output from a zod schema. Servers with
 * `json_schema` get the schema in `response_format` (strict); servers without it (a 400 naming
 * `response_format`) get `json_object` with the schema in the user message. Either way the output
 * is parsed and checked with zod, and a failure earns exactly one repair round.
 */
import type OpenAI from 'openai';
import { z } from 'zod';
import { ReelforgeError, throwIfCancelled } from '../../core/errors.js';
import { addUsage, emptyUsage, type LlmUsage } from '../../core/receipt.js';
import type { LlmResponseCache } from '../cache/llm-cache.js';
import { isUnsupportedFieldError, withRetry, type OpenAiConnection } from './client.js';
import { promptTemplate } from './prompts.js';

export type JsonMode = 'json_schema' | 'json_object';

export interface OpenAiLlmOptions {
  model: string;
  cache?: LlmResponseCache;
  /** Start in `json_object` for servers known to lack `json_schema`; otherwise found out on the first 400. */
  jsonMode?: JsonMode;
  temperature?: number;
}

export interface StructuredRequest<T> {
  /** Schema name for the provider: letters, digits, `_` and `-`. */
  name: string;
  schema: z.ZodType<T>;
  system: string;
  user: string;
  maxTokens?: number;
  /**
   * Every streamed text delta. `attempt` grows whenever the text starts over (a retried stream or
   * the repair round), so an incremental parser knows to reset.
   */
  onDelta?: (delta: string, attempt: number) => void;
}

export interface StructuredResult<T> {
  value: T;
  /** Tokens of the calls made now; zero calls when the answer came from the cache. */
  usage: LlmUsage;
  cached: boolean;
}

type ChatMessage = { role: 'system' | 'user' | 'assistant'; content: string };

interface StreamOutcome {
  text: string;
  usage: LlmUsage;
}

export class OpenAiLlm {
  readonly model: string;
  private jsonMode: JsonMode;
  private readonly temperature: number;
  private readonly cache: LlmResponseCache | undefined;

  constructor(
    private readonly connection: OpenAiConnection,
    options: OpenAiLlmOptions,
  ) {
    this.model = options.model;
    this.jsonMode = options.jsonMode ?? 'json_schema';
    this.temperature = options.temperature ?? 0.7;
    this.cache = options.cache;
  }

  /** The structured-output mode in use; flips to `json_object` after a server says no to `json_schema`. */
  get mode(): JsonMode {
    return this.jsonMode;
  }

  async structured<T>(request: StructuredRequest<T>, signal?: AbortSignal): Promise<StructuredResult<T>> {
    const jsonSchema = toStrictJsonSchema(request.schema);
    const messages: ChatMessage[] = [
      { role: 'system', content: request.system },
      { role: 'user', content: request.user },
    ];
    const cacheKey = { model: this.model, messages, schema: jsonSchema, temperature: this.temperature, maxTokens: request.maxTokens ?? null };
    let attempt = 0;
    const nextAttempt = (): number => ++attempt;

    const hit = await this.cache?.get(cacheKey);
    if (hit) {
      const checked = parseStructured(hit.text, request.schema);
      if (checked.ok) {
        request.onDelta?.(hit.text, nextAttempt());
        return { value: checked.value, usage: emptyUsage(), cached: true };
      }
    }

    const first = await this.streamWithRetry(messages, request, jsonSchema, nextAttempt, signal);
    let usage = first.usage;
    let checked = parseStructured(first.text, request.schema);
    if (!checked.ok) {
      const repair: ChatMessage[] = [
        ...messages,
        { role: 'assistant', content: first.text.slice(0, 20_000) },
        { role: 'user', content: promptTemplate('repair')({ errors: checked.error }) },
      ];
      const second = await this.streamWithRetry(repair, request, jsonSchema, nextAttempt, signal);
      usage = addUsage(usage, second.usage);
      checked = parseStructured(second.text, request.schema);
      if (!checked.ok) {
        throw new ReelforgeError('provider_unavailable', 'The AI model twice returned output we could not use; try again.', {
          retryable: true,
          cause: new Error(`invalid structured output (${request.name}): ${checked.error}`),
          params: { provider: 'openai', reason: 'bad_output' },
        });
      }
    }
    await this.cache?.put(cacheKey, { text: checked.text, usage });
    return { value: checked.value, usage, cached: false };
  }

  private streamWithRetry<T>(
    messages: ChatMessage[],
    request: StructuredRequest<T>,
    jsonSchema: Record<string, unknown>,
    nextAttempt: () => number,
    signal: AbortSignal | undefined,
  ): Promise<StreamOutcome> {
    return withRetry(
      this.connection,
      'chat',
      async () => {
        try {
          return await this.streamOnce(messages, request, jsonSchema, nextAttempt(), signal);
        } catch (error) {
          if (this.jsonMode === 'json_schema' && isUnsupportedFieldError(error, 'response_format')) {
            this.jsonMode = 'json_object';
            return await this.streamOnce(messages, request, jsonSchema, nextAttempt(), signal);
          }
          throw error;
        }
      },
      signal,
    );
  }

  private async streamOnce<T>(
    messages: ChatMessage[],
    request: StructuredRequest<T>,
    jsonSchema: Record<string, unknown>,
    attempt: number,
    signal: AbortSignal | undefined,
  ): Promise<StreamOutcome> {
    throwIfCancelled(signal);
    const objectMode = this.jsonMode === 'json_object';
    const sent = objectMode ? withSchemaInUserMessage(messages, jsonSchema) : messages;
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let stalled = false;
    let timer: NodeJS.Timeout | undefined;
    const armIdleTimer = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = true;
        controller.abort();
      }, this.connection.streamIdleMs);
    };
    try {
      const stream = await this.connection.sdk.chat.completions.create(
        {
          model: this.model,
          messages: sent,
          stream: true,
          stream_options: { include_usage: true },
          temperature: this.temperature,
          ...(request.maxTokens ? { max_tokens: request.maxTokens } : {}),
          response_format: objectMode
            ? { type: 'json_object' }
            : { type: 'json_schema', json_schema: { name: request.name, strict: true, schema: jsonSchema } },
        },
        { signal: controller.signal },
      );
      armIdleTimer();
      let text = '';
      let refusal = '';
      let finish: string | null = null;
      let reported: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) {
        armIdleTimer();
        if (chunk.usage) reported = chunk.usage;
        for (const choice of chunk.choices) {
          const delta = choice.delta;
          if (delta?.content) {
            text += delta.content;
            request.onDelta?.(delta.content, attempt);
          }
          if (delta?.refusal) refusal += delta.refusal;
          if (choice.finish_reason) finish = choice.finish_reason;
        }
      }
      // The SDK ends a stream quietly when it is aborted, so a stall or a cancel shows up here, not as a throw.
      if (stalled) throw stallError();
      throwIfCancelled(signal);
      if (finish === null && !refusal) {
        throw new ReelforgeError('provider_unavailable', 'The AI provider ended a reply before it was complete.', {
          retryable: true,
          params: { provider: 'openai', reason: 'incomplete_stream' },
        });
      }
      if (refusal || finish === 'content_filter') {
        throw new ReelforgeError('content_policy', 'The AI model declined to write this under its content policy.', {
          cause: new Error(this.connection.redact(`refusal: ${refusal.slice(0, 300) || finish}`)),
          params: { provider: 'openai', reason: 'refusal' },
        });
      }
      return { text, usage: toUsage(reported, sent, text) };
    } catch (error) {
      if (stalled && !signal?.aborted && !(error instanceof ReelforgeError)) throw stallError(error);
      throw error;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

function stallError(cause?: unknown): ReelforgeError {
  return new ReelforgeError('provider_unavailable', 'The AI provider stopped answering in the middle of a reply.', {
    retryable: true,
    ...(cause === undefined ? {} : { cause }),
    params: { provider: 'openai', reason: 'stalled' },
  });
}

function withSchemaInUserMessage(messages: ChatMessage[], jsonSchema: Record<string, unknown>): ChatMessage[] {
  // Kept out of the system message so the system prefix stays identical across modes and requests.
  const note = promptTemplate('json-object-mode')({ schema: JSON.stringify(jsonSchema) });
  return messages.map((m, i) => (i === 1 ? { ...m, content: `${m.content}\n\n${note}` } : m));
}

function toUsage(reported: OpenAI.CompletionUsage | undefined, messages: ChatMessage[], completion: string): LlmUsage {
  if (!reported) {
    // Some compatible servers ignore include_usage: count roughly (4 characters a token) rather than report zero.
    const promptTokens = Math.ceil(messages.reduce((n, m) => n + m.content.length, 0) / 4);
    const completionTokens = Math.ceil(completion.length / 4);
    return { calls: 1, promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
  }
  const cached = reported.prompt_tokens_details?.cached_tokens ?? 0;
  return {
    calls: 1,
    promptTokens: reported.prompt_tokens,
    completionTokens: reported.completion_tokens,
    totalTokens: reported.total_tokens || reported.prompt_tokens + reported.completion_tokens,
    ...(cached > 0 ? { cachedPromptTokens: cached } : {}),
  };
}

// ---------------------------------------------------------------- schemas and parsing

const NOISE_KEYS = new Set(['$schema', 'minLength', 'maxLength', 'pattern', 'format']);

/**
 * The zod schema as the JSON Schema strict structured output accepts: no `$schema`, no string
 * bounds, no ±2^53 integer bounds (zod's default) — fewer prompt tokens, wider server support.
 * zod still checks everything on the way back.
 */
export function toStrictJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (!node || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (NOISE_KEYS.has(key)) continue;
      if ((key === 'minimum' || key === 'maximum') && Math.abs(Number(value)) >= Number.MAX_SAFE_INTEGER) continue;
      out[key] = strip(value);
    }
    return out;
  };
  return strip(z.toJSONSchema(schema, { target: 'draft-7' })) as Record<string, unknown>;
}

export type ParseOutcome<T> = { ok: true; value: T; text: string } | { ok: false; error: string };

/** Finds the JSON object in a reply (tolerating code fences and chatter), parses it and checks it. */
export function parseStructured<T>(raw: string, schema: z.ZodType<T>): ParseOutcome<T> {
  const start = raw.indexOf('{');
  const end = raw.lastIndexOf('}');
  if (start < 0 || end < start) return { ok: false, error: 'the reply contains no JSON object' };
  const text = raw.slice(start, end + 1);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `not valid JSON (${error instanceof Error ? error.message : 'parse error'})` };
  }
  const result = schema.safeParse(data);
  if (result.success) return { ok: true, value: result.data, text };
  return { ok: false, error: summarizeIssues(result.error) };
}

export function summarizeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 6)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
