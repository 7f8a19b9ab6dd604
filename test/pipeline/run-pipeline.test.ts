import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cancelled } from '../../src/core/errors.js';
import type { ProgressEvent } from '../../src/core/progress.js';
import { validateVideoRequest } from '../../src/core/request.js';
import { MemoryAssembler, MemoryImages, MemoryMusic, MemoryScriptWriter, MemorySpeech, Recorder } from '../../src/providers/memory/index.js';
import type { PromptFixer, ScriptEvent, ScriptInput, ScriptWriter, SpeechProvider } from '../../src/pipeline/ports.js';
import { storyboardScript } from '../../src/pipeline/storyboard.js';
import { runPipeline, type PipelineDeps, type SegmentReview } from '../../src/pipeline/run-pipeline.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reelforge-pipeline-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function deps(overrides: Partial<PipelineDeps> = {}): PipelineDeps & { assembler: MemoryAssembler; images: MemoryImages } {
  return {
    writer: new MemoryScriptWriter(),
    images: new MemoryImages(),
    speech: new MemorySpeech(),
    music: new MemoryMusic(),
    assembler: new MemoryAssembler(),
    ...overrides,
  } as PipelineDeps & { assembler: MemoryAssembler; images: MemoryImages };
}

describe('runPipeline', () => {
  it('renders every segment and joins them with voice placed on the timeline', async () => {
    const d = deps();
    const events: ProgressEvent[] = [];
    const receipt = await runPipeline(
      { request: validateVideoRequest({ duration: 20, topic: 'The history of tea' }), workDir: dir, outPath: join(dir, 'out.mp4'), onProgress: (e) => events.push(e) },
      d,
    );
    expect(receipt.segments).toBe(4);
    expect(receipt.tier).toBe('ultra_fast');
    expect(receipt.offline).toBe(true);
    expect(receipt.images).toEqual({ generated: 4, reused: 0 });
    expect(d.assembler.rendered.map((r) => r.index).sort()).toEqual([0, 1, 2, 3]);
    const finished = d.assembler.finished!;
    const mixed = d.assembler.mixed!;
    // Voice clips start where their segment starts (plus the lead-in for the first one).
    let t = 0;
    finished.segments.forEach((segment, i) => {
      expect(mixed.voice[i]!.offsetSec).toBeCloseTo(t + (i === 0 ? 0.3 : 0));
      t += segment.durationSec;
    });
    expect(mixed.durationSec).toBeCloseTo(t);
    expect(finished.audio).toEqual({ path: mixed.outPath, durationSec: mixed.durationSec });
    expect(finished.durationSec).toBeCloseTo(t);
    expect(receipt.durationSec).toBeCloseTo(t, 1);
    // First and last segments fade; the last one knows it is last.
    const byIndex = new Map(d.assembler.rendered.map((r) => [r.index, r]));
    expect(byIndex.get(0)!.fadeInSec).toBeGreaterThan(0);
    expect(byIndex.get(3)!.fadeOutSec).toBeGreaterThan(0);
    expect(byIndex.get(1)!.fadeOutSec).toBe(0);
    // Subtitles stay within their segment.
    for (const r of d.assembler.rendered) for (const cue of r.cues) expect(cue.endSec).toBeLessThanOrEqual(r.durationSec + 1e-9);
    expect(events[0]).toMatchObject({ type: 'started', offline: true, tier: 'ultra_fast' });
    expect(events).toContainEqual({ type: 'stage', stage: 'render', status: 'done' });
    expect(events).toContainEqual({ type: 'count', stage: 'images', done: 4, total: 4 });
    // The whole run takes at least as long as its longest stage.
    const stages = Object.entries(receipt.timingsMs).filter(([stage]) => stage !== 'total');
    expect(stages.map(([stage]) => stage)).toEqual(expect.arrayContaining(['script', 'images', 'voice', 'render']));
    for (const [, ms] of stages) expect(receipt.timingsMs.total).toBeGreaterThanOrEqual(ms);
  });

  it('starts pictures, voices and renders while the script is still streaming', async () => {
    const recorder = new Recorder();
    const d = deps({
      writer: new MemoryScriptWriter({ perSegmentMs: 40, recorder }),
      images: new MemoryImages({ recorder }),
      speech: new MemorySpeech({ recorder }),
      assembler: new MemoryAssembler({ recorder }),
    });
    const events: Array<{ at: number; e: ProgressEvent }> = [];
    const t0 = performance.now();
    await runPipeline(
      { request: validateVideoRequest({ duration: 30, topic: 'Tea' }), workDir: dir, outPath: join(dir, 'o.mp4'), onProgress: (e) => events.push({ at: performance.now() - t0, e }) },
      d,
    );
    const scriptEnd = recorder.first('script:end')!;
    expect(recorder.first('image:start')!).toBeLessThan(scriptEnd);
    expect(recorder.first('speech:start')!).toBeLessThan(scriptEnd);
    expect(recorder.first('render:start')!).toBeLessThan(scriptEnd);
    const firstCount = events.find((x) => x.e.type === 'count');
    expect(firstCount!.at).toBeLessThan(scriptEnd);
  });

  it('mixes the sound track as soon as every voice exists, while pictures are still being made', async () => {
    const recorder = new Recorder();
    const d = deps({
      writer: new MemoryScriptWriter({ perSegmentMs: 5, recorder }),
      images: new MemoryImages({ latencyMs: 200, recorder }),
      speech: new MemorySpeech({ recorder }),
      assembler: new MemoryAssembler({ recorder, renderMs: 20, mixMs: 20 }),
    });
    await runPipeline({ request: validateVideoRequest({ duration: 20, topic: 'Tea' }), workDir: dir, outPath: join(dir, 'mix.mp4') }, d);
    expect(recorder.first('mix:start')!).toBeLessThan(recorder.first('image:end')!);
    expect(recorder.first('mix:start')!).toBeLessThan(recorder.first('render:start')!);
    // The join comes last, after every render and the mix.
    const renders = recorder.calls.filter((c) => c.kind === 'render:start').map((c) => c.at);
    expect(recorder.first('finish:start')!).toBeGreaterThan(Math.max(...renders));
  });

  it('caps the video bitrate so the file fits the destination on the first encode', async () => {
    const d = deps();
    await runPipeline(
      { request: validateVideoRequest({ duration: 60, topic: 'Tea' }), workDir: dir, outPath: join(dir, 'o.mp4'), maxBytes: 10 * 1024 * 1024 },
      d,
    );
    // The assembler turns the limit into a bitrate cap (test/providers/ffmpeg/speed-paths.test.ts).
    expect(d.assembler.rendered.map((r) => r.sizeLimit)).toEqual(d.assembler.rendered.map(() => ({ maxBytes: 10 * 1024 * 1024, durationSec: 60 })));
    expect(d.assembler.rendered.length).toBeGreaterThan(0);
    const unlimited = deps();
    await runPipeline({ request: validateVideoRequest({ duration: 20, topic: 'Tea' }), workDir: dir, outPath: join(dir, 'p.mp4') }, unlimited);
    expect(unlimited.assembler.rendered.every((r) => r.sizeLimit === undefined)).toBe(true);
  });

  it('keeps the user narration word for word', async () => {
    const d = deps();
    const script = 'Tea began in China. Monks carried it to Japan. Traders took it to Europe. Britain made it a ritual.';
    const receipt = await runPipeline(
      { request: validateVideoRequest({ duration: 20, script }), workDir: dir, outPath: join(dir, 'o.mp4') },
      d,
    );
    // Karaoke (the default) repeats a page once per spoken word: each page counts once.
    const spoken = d.assembler.rendered
      .sort((a, b) => a.index - b.index)
      .flatMap((r) => r.cues.filter((c) => !c.joinPrev).map((c) => c.text))
      .join(' ');
    expect(spoken).toBe(script);
    expect(receipt.segments).toBe(4);
  });

  it('renders a given script (an approved storyboard) with its words timed by the voice', async () => {
    // Words 0.4 s apart from 0.1 s: each karaoke cue must start where its word is spoken.
    const speech: SpeechProvider = {
      offline: true,
      model: 'timed',
      synthesize: (request) => {
        const tokens = request.text.split(/\s+/).filter(Boolean);
        const words = tokens.map((text, i) => ({ text, startSec: 0.1 + i * 0.4, endSec: 0.4 + i * 0.4 }));
        return Promise.resolve({ data: Buffer.from(request.text), ext: 'wav', durationSec: 0.2 + tokens.length * 0.4, words });
      },
    };
    const d = deps({ speech });
    const script = storyboardScript({
      version: 1, title: 'Tea', topic: 'Tea', language: 'en', tier: 'ultra_fast', seconds: 10, aspect: '9:16', mood: 'calm', draft: false,
      segments: [
        { narration: 'Tea began in China.', picture: 'A tea bush', people: [] },
        { narration: 'It crossed the sea.', picture: 'A ship', people: [] },
      ],
    });
    await runPipeline({ request: validateVideoRequest({ duration: 10, topic: 'Tea', captions: 'karaoke' }), script, workDir: dir, outPath: join(dir, 'g.mp4') }, d);
    const first = d.assembler.rendered.find((r) => r.index === 0)!;
    const onsets = first.cues.map((c) => c.startSec);
    // The first segment has a lead-in of 0.3 s before its voice; the voice may be retimed by at most 10 %.
    const step = (onsets[2]! - onsets[1]!) / 0.4;
    expect(step).toBeGreaterThan(0.89);
    expect(step).toBeLessThan(1.12);
    onsets.forEach((t, i) => expect(t).toBeCloseTo(0.3 + (0.1 + i * 0.4) * step, 2));
    expect(first.cues.map((c) => c.highlight)).toEqual([0, 1, 2, 3]);
  });

  it.each([10, 30, 90, 180])('lands a %i s video within 10 %% of the asked length though the writer overshoots and the voice is slower than it says', async (seconds) => {
    // A writer 25 % over the asked words, unevenly per segment; a voice 8 % slower than its stated rate.
    const writer: ScriptWriter = {
      offline: false,
      // eslint-disable-next-line @typescript-eslint/require-await -- an async generator: the port streams events
      async *write(input: ScriptInput): AsyncIterable<ScriptEvent> {
        yield { type: 'meta', meta: { title: 'Long', lang: 'en', mood: 'calm', draft: false } };
        const share = ((input.targetWords ?? 10) * 1.25) / input.targetSegments;
        for (let i = 0; i < input.targetSegments; i++) {
          // Sentences of five words, as a model writes them.
          const words = Math.max(5, Math.round(share * (i % 2 === 0 ? 0.8 : 1.2)));
          const narration = Array.from({ length: words }, (_, k) => (k % 5 === 4 || k === words - 1 ? 'end.' : 'word')).join(' ');
          yield { type: 'segment', segment: { index: i, narration, imagePrompt: `Scene ${i}`, people: [] } };
        }
      },
    };
    const speech: SpeechProvider = {
      offline: false,
      model: 'slow',
      wordsPerSecond: () => 2.5,
      synthesize: (request) => Promise.resolve({ data: Buffer.from(request.text), ext: 'wav', durationSec: request.text.split(/\s+/).length / 2.3 }),
    };
    const d = deps({ writer, speech });
    const receipt = await runPipeline({ request: validateVideoRequest({ duration: seconds, topic: 'Long' }), workDir: dir, outPath: join(dir, 'long.mp4') }, d);
    expect(Math.abs(receipt.durationSec - seconds) / seconds).toBeLessThanOrEqual(0.1);
    // The voices were sped up, never past 10 %.
    expect(d.assembler.retimed.length).toBeGreaterThan(0);
    for (const r of d.assembler.retimed) expect(r.factor).toBeLessThanOrEqual(1.1);
  });

  it('refuses a given script far too long for the asked length before any voice is paid for', async () => {
    const recorder = new Recorder();
    const d = deps({ speech: new MemorySpeech({ recorder }) });
    const long = Array.from({ length: 30 }, () => 'Tea crossed the sea in clipper ships, and every port drank it.').join(' ');
    const script = storyboardScript({
      version: 1, title: 'Tea', topic: 'Tea', language: 'en', tier: 'ultra_fast', seconds: 10, aspect: '9:16', mood: 'calm', draft: false,
      segments: [{ narration: long.slice(0, 590), picture: 'A ship', people: [] }, { narration: long.slice(0, 590), picture: 'A port', people: [] }],
    });
    const run = runPipeline({ request: validateVideoRequest({ duration: 10, topic: 'Tea' }), script, workDir: dir, outPath: join(dir, 'l.mp4') }, d);
    await expect(run).rejects.toMatchObject({ code: 'bad_input', params: { reason: 'script_too_long_for_duration' } });
    expect(recorder.count('speech:start')).toBe(0);
  });

  it('reuses the picture of a duplicate segment and sends only held segments to one batched rewrite', async () => {
    const rewrites: number[][] = [];
    const fixer: PromptFixer = {
      rewrite: ({ segments }) => {
        rewrites.push(segments.map((s) => s.index));
        return Promise.resolve({
          prompts: Object.fromEntries(segments.map((s) => [s.index, `fixed ${s.index}`])),
          usage: { calls: 1, promptTokens: 100, completionTokens: 20, totalTokens: 120 },
        });
      },
    };
    const review: SegmentReview = (segment) =>
      segment.index === 2 ? { action: 'reuse', of: 0 } : segment.index === 3 ? { action: 'hold', reason: 'two people' } : { action: 'go' };
    const d = deps({ reviewFor: () => review, fixer });
    const receipt = await runPipeline(
      { request: validateVideoRequest({ duration: 60, topic: 'Tea' }), workDir: dir, outPath: join(dir, 'o.mp4') },
      d,
    );
    expect(rewrites).toEqual([[3]]);
    expect(receipt.llm.calls).toBe(1);
    expect(receipt.images.reused).toBe(1);
    expect(receipt.images.generated).toBe(11);
    expect(d.images.requests.find((r) => r.index === 3)?.prompt).toBe('fixed 3');
    const byIndex = new Map(d.assembler.rendered.map((r) => [r.index, r]));
    expect(byIndex.get(2)!.imagePath).toBe(byIndex.get(0)!.imagePath);
  });

  it('fails with the provider error, stops other work and leaves no output', async () => {
    const d = deps({ images: new MemoryImages({ failTimes: 1, latencyMs: 5 }), assembler: new MemoryAssembler({ renderMs: 50 }) });
    const out = join(dir, 'o.mp4');
    await expect(runPipeline({ request: validateVideoRequest({ duration: 30, topic: 'Tea' }), workDir: dir, outPath: out }, d)).rejects.toMatchObject({
      code: 'internal',
    });
    expect(d.assembler.finished).toBeUndefined();
    await expect(readFile(out)).rejects.toThrow();
  });

  it('stops at once when cancelled', async () => {
    // Pictures would take a minute: the run can only end within the test's time by stopping them.
    const controller = new AbortController();
    const d = deps({ writer: new MemoryScriptWriter({ perSegmentMs: 20 }), images: new MemoryImages({ latencyMs: 60_000 }) });
    const run = runPipeline(
      {
        request: validateVideoRequest({ duration: 30, topic: 'Tea' }),
        workDir: dir,
        outPath: join(dir, 'o.mp4'),
        signal: controller.signal,
        onProgress: (event) => {
          if (event.type === 'stage' && event.stage === 'images' && event.status === 'running') controller.abort(cancelled());
        },
      },
      d,
    );
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    expect(d.assembler.finished).toBeUndefined();
  });
});
