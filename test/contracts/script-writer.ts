/**
 * What every ScriptWriter must do (the offline outline, the OpenAI storyteller): the event stream's
 * shape, the spoken length, the user's own narration kept word for word, and cancellation.
 * Imported by the writers' test files: `scriptWriterContract('offline', async () => ({ writer }))`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReelforgeError } from '../../src/core/errors.js';
import { TIER_PROFILES } from '../../src/core/tiers.js';
import { MOODS } from '../../src/pipeline/model.js';
import type { ScriptEvent, ScriptInput, ScriptWriter } from '../../src/pipeline/ports.js';

export interface ScriptWriterHarness {
  writer: ScriptWriter;
  cleanup?: () => Promise<void>;
}

export interface ScriptContractOptions {
  /** Allowed relative error of the narration's word count against durationSec × 2.5. */
  wordTolerance?: number;
  /** Allowed difference between the segments made and `targetSegments`, as a fraction. */
  segmentTolerance?: number;
}

export function scriptInput(overrides: Partial<ScriptInput> = {}): ScriptInput {
  return {
    topic: 'The fall of Constantinople',
    durationSec: 30,
    lang: 'en',
    profile: TIER_PROFILES.ultra_fast,
    wantBible: false,
    targetSegments: 6,
    ...overrides,
  };
}

export async function collect(writer: ScriptWriter, input: ScriptInput, signal?: AbortSignal): Promise<ScriptEvent[]> {
  const events: ScriptEvent[] = [];
  for await (const event of writer.write(input, signal)) events.push(event);
  return events;
}

export function wordCount(text: string): number {
  return text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}

function segmentsOf(events: ScriptEvent[]) {
  return events.flatMap((e) => (e.type === 'segment' ? [e.segment] : []));
}

export function scriptWriterContract(name: string, make: () => Promise<ScriptWriterHarness>, options: ScriptContractOptions = {}): void {
  const wordTolerance = options.wordTolerance ?? 0.2;
  const segmentTolerance = options.segmentTolerance ?? 0.34;

  describe(`ScriptWriter contract: ${name}`, () => {
    let harness: ScriptWriterHarness;
    beforeAll(async () => {
      harness = await make();
    });
    afterAll(async () => {
      await harness?.cleanup?.();
    });

    it('streams meta first, then segments in index order, then usage last', async () => {
      const events = await collect(harness.writer, scriptInput());
      expect(events[0]?.type).toBe('meta');
      expect(events.at(-1)?.type).toBe('usage');
      expect(events.filter((e) => e.type === 'meta')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'usage')).toHaveLength(1);
      const segments = segmentsOf(events);
      expect(segments.length).toBeGreaterThan(0);
      segments.forEach((segment, i) => {
        expect(segment.index).toBe(i);
        expect(segment.narration.trim().length).toBeGreaterThan(0);
        expect(segment.imagePrompt.trim().length).toBeGreaterThan(0);
        expect(Array.isArray(segment.people)).toBe(true);
      });
    });

    it('gives a title, a known mood and the language in meta', async () => {
      const events = await collect(harness.writer, scriptInput());
      const meta = events[0]?.type === 'meta' ? events[0].meta : undefined;
      expect(meta?.title.trim().length).toBeGreaterThan(0);
      expect(MOODS).toContain(meta?.mood);
      expect(meta?.lang).toBe('en');
      expect(typeof meta?.draft).toBe('boolean');
    });

    it('counts its LLM usage with whole, non-negative numbers', async () => {
      const events = await collect(harness.writer, scriptInput());
      const usage = events.at(-1)?.type === 'usage' ? (events.at(-1) as Extract<ScriptEvent, { type: 'usage' }>).usage : undefined;
      expect(usage).toBeDefined();
      for (const value of [usage?.calls, usage?.promptTokens, usage?.completionTokens, usage?.totalTokens]) {
        expect(Number.isInteger(value)).toBe(true);
        expect(value).toBeGreaterThanOrEqual(0);
      }
      expect(usage?.totalTokens).toBeGreaterThanOrEqual((usage?.promptTokens ?? 0) + (usage?.completionTokens ?? 0));
    });

    it.each([
      [30, 6],
      [60, 12],
    ])('writes about 2.5 spoken words a second for %i s in about %i segments', async (durationSec, targetSegments) => {
      const events = await collect(harness.writer, scriptInput({ durationSec, targetSegments }));
      const segments = segmentsOf(events);
      const words = segments.reduce((sum, s) => sum + wordCount(s.narration), 0);
      const target = durationSec * 2.5;
      expect(Math.abs(words - target) / target).toBeLessThanOrEqual(wordTolerance);
      expect(Math.abs(segments.length - targetSegments) / targetSegments).toBeLessThanOrEqual(segmentTolerance);
    });

    it("keeps the user's own narration word for word, one segment each, and adds pictures", async () => {
      const narration = [
        'Constantinople stood for a thousand years.',
        'In 1453 the Ottoman army arrived with cannon of a size nobody had seen.',
        'On the twenty-ninth of May, the walls were breached.',
      ];
      const events = await collect(harness.writer, scriptInput({ narration, durationSec: 12, targetSegments: 3 }));
      const segments = segmentsOf(events);
      expect(segments.map((s) => s.narration.replace(/\s+/g, ' ').trim())).toEqual(narration);
      for (const segment of segments) expect(segment.imagePrompt.trim().length).toBeGreaterThan(0);
    });

    it('refuses to start with an aborted signal, as a cancelled ReelforgeError', async () => {
      const controller = new AbortController();
      controller.abort();
      const error: unknown = await collect(harness.writer, scriptInput(), controller.signal).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReelforgeError);
      expect((error as ReelforgeError).code).toBe('cancelled');
    });

    it('stops streaming with a cancelled ReelforgeError when aborted after the first event', async () => {
      const controller = new AbortController();
      const seen: ScriptEvent[] = [];
      const error: unknown = await (async () => {
        for await (const event of harness.writer.write(scriptInput({ durationSec: 60, targetSegments: 12 }), controller.signal)) {
          seen.push(event);
          controller.abort();
        }
      })().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReelforgeError);
      expect((error as ReelforgeError).code).toBe('cancelled');
      expect(seen.filter((e) => e.type === 'usage')).toHaveLength(0);
    });
  });
}
