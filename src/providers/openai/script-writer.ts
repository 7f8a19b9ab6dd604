/**
 * The storyteller, the context analysis and the visual director in ONE streamed call. The schema
 * puts the meta fields (title, mood, context, bible or style) before `segments`, so the meta event
 * leaves as soon as the array opens and each segment leaves the moment its object closes: images
 * and voice for segment 1 start while the model is still writing segment 2.
 */
import { z } from 'zod';
import { ReelforgeError, throwIfCancelled } from '../../core/errors.js';
import { MOODS, type ScriptMeta, type Segment, type StoryContext, type VisualBible } from '../../pipeline/model.js';
import type { ScriptEvent, ScriptInput, ScriptWriter } from '../../pipeline/ports.js';
import { WORDS_PER_SECOND } from '../../pipeline/segmenting.js';
import { JsonArrayStreamer } from './json-array-stream.js';
import type { OpenAiLlm } from './llm.js';
import { loadPrompt, promptTemplate } from './prompts.js';


const segmentWithNarration = z.object({
  narration: z.string().trim().min(1),
  imagePrompt: z.string().trim().min(3),
  people: z.array(z.string()),
  keywords: z.string(),
});

const segmentPromptOnly = segmentWithNarration.omit({ narration: true });

type RawSegment = { narration?: string; imagePrompt: string; people: string[]; keywords: string };

function contextSchema(depth: ScriptInput['profile']['context']) {
  const base = z.object({ era: z.string(), region: z.string(), people: z.array(z.string()) });
  return depth === 'light' ? base : base.extend({ avoid: z.array(z.string()) });
}

const bibleSchema = z.object({
  style: z.string().trim().min(1),
  characters: z.array(z.object({ name: z.string(), look: z.string() })),
});

/** Whether this input gets a visual bible: off for ultra_fast, on request for balanced, on for quality. */
export function wantsBible(input: Pick<ScriptInput, 'profile' | 'wantBible'>): boolean {
  const mode = input.profile.visualBible;
  return mode === 'on' || (mode === 'on_request' && input.wantBible);
}

/** The schemas for one input: the meta part alone (for the streamed head) and the whole reply. */
export function scriptSchemas(input: ScriptInput) {
  const withBible = wantsBible(input);
  const meta = z.object({
    title: z.string().trim().min(1),
    mood: z.enum(MOODS),
    context: contextSchema(input.profile.context),
    ...(withBible ? { bible: bibleSchema } : { style: z.string() }),
  });
  const segment = input.narration ? segmentPromptOnly : segmentWithNarration;
  const full = meta.extend({ segments: z.array(segment).min(1) });
  return { meta, segment, full };
}

const AVOID_ITEMS = { light: 0, standard: 3, full: 6 } as const;

export function scriptUserMessage(input: ScriptInput): string {
  // Another take (🔁 New script) is another request: the LLM cache misses and the model tells it anew.
  const take = input.take ? `\nTake: ${input.take} (a new version: tell it differently from earlier takes)` : '';
  return scriptRequestText(input) + take;
}

function scriptRequestText(input: ScriptInput): string {
  if (input.narration) {
    return promptTemplate('script-narration')({
      topic: input.topic,
      lang: input.lang,
      segments: input.narration.length,
      lines: input.narration.map((line, i) => `${i + 1}. ${line.replace(/\s+/g, ' ').trim()}`).join('\n'),
    });
  }
  return promptTemplate('script-request')({
    topic: input.topic,
    lang: input.lang,
    seconds: input.durationSec,
    segments: input.targetSegments,
    words: Math.round(input.targetWords ?? input.durationSec * WORDS_PER_SECOND),
    avoid: AVOID_ITEMS[input.profile.context],
  });
}

export interface OpenAiScriptWriterOptions {
  /** Upper bound on completion tokens: a runaway reply costs at most this. */
  maxTokens?: number;
}

export class OpenAiScriptWriter implements ScriptWriter {
  readonly offline = false;

  constructor(
    private readonly llm: OpenAiLlm,
    private readonly options: OpenAiScriptWriterOptions = {},
  ) {}

  async *write(input: ScriptInput, signal?: AbortSignal): AsyncIterable<ScriptEvent> {
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const events = new EventChannel<ScriptEvent>();
    const assembler = new ScriptAssembler(input, (event) => events.push(event));
    const schemas = scriptSchemas(input);
    const words = input.narration ? input.narration.join(' ').split(/\s+/).length : (input.targetWords ?? input.durationSec * WORDS_PER_SECOND);
    const call = this.llm
      .structured(
        {
          name: 'video_script',
          schema: schemas.full,
          system: loadPrompt('script-writer'),
          user: scriptUserMessage(input),
          // Room for the words plus ~60 tokens of prompt and JSON per segment, times two for safety.
          maxTokens: this.options.maxTokens ?? Math.round(800 + words * 3 + input.targetSegments * 120),
          onDelta: (delta, attempt) => assembler.feed(delta, attempt),
        },
        controller.signal,
      )
      .then(
        (result) => {
          try {
            assembler.finish(result.value);
            events.push({ type: 'usage', usage: result.usage });
            events.close();
          } catch (error) {
            events.fail(error);
          }
        },
        (error: unknown) => events.fail(error),
      );
    try {
      for await (const event of events) {
        // Events may already be queued when the caller cancels: none leaves after the signal.
        throwIfCancelled(signal);
        yield event;
        throwIfCancelled(signal);
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      controller.abort();
      await call;
    }
  }
}

/**
 * Turns streamed text into events: meta once, each segment once (by position), whatever retries or
 * the repair round do to the text. A segment already handed out is never taken back: work on it has
 * started, and the final reply only fills in what the stream did not deliver.
 */
class ScriptAssembler {
  private streamer: JsonArrayStreamer | undefined;
  private attempt = -1;
  private position = 0;
  private metaSent = false;
  private readonly sent = new Set<number>();
  private readonly waiting: Segment[] = [];
  private readonly schemas: ReturnType<typeof scriptSchemas>;

  constructor(
    private readonly input: ScriptInput,
    private readonly emit: (event: ScriptEvent) => void,
  ) {
    this.schemas = scriptSchemas(input);
  }

  feed(delta: string, attempt: number): void {
    if (attempt !== this.attempt || !this.streamer) {
      this.attempt = attempt;
      this.streamer = new JsonArrayStreamer('segments');
      this.position = 0;
    }
    const pieces = this.streamer.push(delta);
    if (pieces.head !== undefined && !this.metaSent) {
      const meta = this.schemas.meta.safeParse(safeJson(pieces.head));
      if (meta.success) this.sendMeta(meta.data);
    }
    for (const item of pieces.items) {
      const index = this.position++;
      const raw = this.schemas.segment.safeParse(safeJson(item));
      if (raw.success) this.offer(index, raw.data);
    }
  }

  finish(value: z.infer<ReturnType<typeof scriptSchemas>['full']>): void {
    if (!this.metaSent) this.sendMeta(value);
    value.segments.forEach((raw: RawSegment, index: number) => this.offer(index, raw));
    const narration = this.input.narration;
    if (narration) {
      // The model wrote fewer pictures than lines: the line itself is the best prompt we have.
      for (let i = 0; i < narration.length; i++) {
        if (!this.sent.has(i)) this.offer(i, { imagePrompt: `${this.input.topic}: ${narration[i] ?? ''}`, people: [], keywords: '' });
      }
    }
    if (this.sent.size === 0) {
      throw new ReelforgeError('provider_unavailable', 'The AI model returned a script without segments; try again.', {
        retryable: true,
        params: { provider: 'openai', reason: 'bad_output' },
      });
    }
  }

  private sendMeta(raw: z.infer<ReturnType<typeof scriptSchemas>['meta']>): void {
    this.metaSent = true;
    this.emit({ type: 'meta', meta: buildMeta(raw, this.input) });
    for (const segment of this.waiting.splice(0)) this.emit({ type: 'segment', segment });
  }

  private offer(index: number, raw: RawSegment): void {
    if (this.sent.has(index)) return;
    const narration = this.input.narration;
    // Own narration is kept word for word from the input, never from the model's copy.
    if (narration && index >= narration.length) return;
    if (!narration && index >= Math.max(this.input.targetSegments * 2, 4)) return;
    const text = narration ? (narration[index] ?? '') : (raw.narration ?? '');
    if (!text.trim()) return;
    this.sent.add(index);
    const segment = buildSegment(index, text, raw);
    if (this.metaSent) this.emit({ type: 'segment', segment });
    else this.waiting.push(segment);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function clean(text: string, max: number): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, max);
}

function cleanList(items: readonly string[], max: number): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const item of items) {
    const value = clean(item, 80);
    if (value && !seen.has(value.toLowerCase())) {
      seen.add(value.toLowerCase());
      out.push(value);
    }
  }
  return out.slice(0, max);
}

function buildSegment(index: number, narration: string, raw: RawSegment): Segment {
  const keywords = clean(raw.keywords, 60);
  return {
    index,
    narration: narration.trim(),
    imagePrompt: clean(raw.imagePrompt, 600),
    people: cleanList(raw.people, 6),
    ...(keywords ? { keywords } : {}),
  };
}

interface RawMeta {
  title: string;
  mood: ScriptMeta['mood'];
  context: { era: string; region: string; people: string[]; avoid?: string[] };
  bible?: { style: string; characters: Array<{ name: string; look: string }> };
  style?: string;
}

function buildMeta(raw: RawMeta, input: ScriptInput): ScriptMeta {
  const era = clean(raw.context.era, 80);
  const region = clean(raw.context.region, 80);
  const context: StoryContext = {
    ...(era ? { era } : {}),
    ...(region ? { region } : {}),
    people: cleanList(raw.context.people, 12),
    avoid: cleanList(raw.context.avoid ?? [], 8),
  };
  const bible: VisualBible | undefined = raw.bible
    ? {
        style: clean(raw.bible.style, 300),
        characters: raw.bible.characters
          .map((c) => ({ name: clean(c.name, 80), look: clean(c.look, 300) }))
          .filter((c) => c.name && c.look)
          .slice(0, 8),
      }
    : undefined;
  const style = clean(raw.style ?? '', 300);
  return {
    title: clean(raw.title, 120) || input.topic,
    lang: input.lang,
    mood: raw.mood,
    draft: false,
    context,
    ...(bible ? { bible, style: bible.style } : style ? { style } : {}),
  };
}

/** A push-to-pull bridge: callbacks push, the generator pulls; an error ends the iteration by throwing. */
class EventChannel<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private done = false;
  private error: unknown;
  private failed = false;
  private wake: (() => void) | undefined;

  push(item: T): void {
    this.items.push(item);
    this.notify();
  }

  close(): void {
    this.done = true;
    this.notify();
  }

  fail(error: unknown): void {
    this.failed = true;
    this.error = error;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.failed) throw this.error;
      if (this.done) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
