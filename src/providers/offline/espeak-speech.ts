/**
 * Offline narration through the Debian `espeak-ng` program. espeak-ng is GPL-3.0, so it runs as a
 * separate process and is never linked in. The CLI reports no word timings, so each sentence is a
 * call of its own (measured: 12 sentences in ~0.5 s) and the joined clip gives exact sentence marks; word
 * timings are measured from a second, words-apart pass of the same sentence (espeak-words.ts).
 */
import { spawn } from 'node:child_process';
import { childProcessEnv } from '../../config.js';
import { ReelforgeError, isAbortError, throwIfCancelled, cancelled } from '../../core/errors.js';
import PQueue from 'p-queue';
import { splitSentences, WORDS_PER_SECOND } from '../../pipeline/segmenting.js';
import type { SpeechMark, SpeechProvider, SpeechRequest, SpeechResult, WordTiming } from '../../pipeline/ports.js';
import { concatWav } from '../wav.js';
import { layoutWords, MEASURE_WORD_GAP, parseSentencePhonemes, parseTokenPhonemes, soundRuns, wavSamples } from './espeak-words.js';

/** espeak-ng voice per language (checked against `espeak-ng --voices` 1.51). */
const VOICES: Readonly<Record<string, string>> = {
  en: 'en-us',
  ru: 'ru',
  de: 'de',
  fr: 'fr-fr',
  es: 'es',
  it: 'it',
  pt: 'pt',
  uk: 'uk',
};

/**
 * Spoken words a second at 165 words a minute, measured over the offline writer's narration (12
 * segments, two topics each; sentence pauses included): English 2.70-2.87, Russian 2.11-2.23.
 */
const WORDS_PER_SECOND_AT_165: Readonly<Record<string, number>> = { en: 2.78, ru: 2.17 };

const KNOWN_VOICES = new Set([...Object.values(VOICES), 'en-gb', 'pt-br', 'fr-be', 'fr-ch', 'es-419']);

export function espeakVoiceFor(lang: string): string {
  const primary = lang.trim().toLowerCase().split(/[-_]/)[0] ?? '';
  return VOICES[primary] ?? 'en-us';
}

/**
 * The request's voice is often another provider's name (TTS_VOICE=alloy), so it is used only when
 * it names an espeak-ng voice we know, optionally with a variant such as `en-us+f3`.
 */
function chooseVoice(request: SpeechRequest): string {
  const asked = request.voice?.trim().toLowerCase();
  if (asked) {
    const [base, variant] = asked.split('+');
    if (base && KNOWN_VOICES.has(base) && (variant === undefined || /^[a-z]+\d*$/.test(variant))) return asked;
  }
  return espeakVoiceFor(request.lang);
}

/** espeak would read markup aloud (SSML is off): drop tags and collapse whitespace. */
export function stripMarkup(text: string): string {
  return text
    .replace(/<[^<>]*>/g, ' ')
    .replace(/[<>]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export interface EspeakSpeechOptions {
  /** The program to run (default `espeak-ng` on PATH). */
  binary?: string;
  /** Speaking rate in words per minute. */
  wordsPerMinute?: number;
  /** espeak processes at once. */
  concurrency?: number;
  /** Silence between sentences, in seconds. */
  gapSec?: number;
  /** Measure word timings (a second, words-apart pass per sentence); on by default. */
  wordTimings?: boolean;
}

export class EspeakSpeech implements SpeechProvider {
  readonly offline = true;
  readonly model = 'espeak-ng';
  private readonly binary: string;
  private readonly wordsPerMinute: number;
  private readonly concurrency: number;
  private readonly gapSec: number;
  private readonly wordTimings: boolean;

  constructor(options: EspeakSpeechOptions = {}) {
    this.binary = options.binary ?? 'espeak-ng';
    this.wordsPerMinute = options.wordsPerMinute ?? 165;
    this.concurrency = Math.max(1, options.concurrency ?? 2);
    this.gapSec = options.gapSec ?? 0.12;
    this.wordTimings = options.wordTimings ?? true;
  }

  wordsPerSecond(lang: string): number {
    const primary = lang.trim().toLowerCase().split(/[-_]/)[0] ?? '';
    return (WORDS_PER_SECOND_AT_165[primary] ?? WORDS_PER_SECOND) * (this.wordsPerMinute / 165);
  }

  async synthesize(request: SpeechRequest, signal?: AbortSignal): Promise<SpeechResult> {
    throwIfCancelled(signal);
    const sentences = splitSentences(stripMarkup(request.text)).filter((s) => /[\p{L}\p{N}]/u.test(s));
    if (sentences.length === 0) throw new ReelforgeError('bad_input', 'There is no text to speak.');
    const voice = chooseVoice(request);
    const args = ['-v', voice, '-s', String(this.wordsPerMinute), '--stdout'];

    // One controller for this call: a failed sentence stops its siblings, and so does the caller's signal.
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const queue = new PQueue({ concurrency: this.concurrency });
      const tasks = sentences.map((sentence) =>
        queue.add(
          async () => {
            const clip = await runEspeak(this.binary, args, sentence, controller.signal);
            const words = this.wordTimings ? await this.measureWords(voice, sentence, clip, controller.signal) : undefined;
            return { clip, words };
          },
          { signal: controller.signal },
        ),
      );
      // The first failure stops its siblings (running ones are killed, waiting ones never start).
      for (const task of tasks) task.catch((error: unknown) => controller.abort(error));
      const settled = await Promise.allSettled(tasks);
      const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failure) throw controller.signal.reason instanceof Error ? controller.signal.reason : failure.reason;
      const spoken = settled.map((s) => (s as PromiseFulfilledResult<{ clip: Buffer; words: WordTiming[] | undefined }>).value);
      const joined = concatWav(
        spoken.map((s) => s.clip),
        this.gapSec,
      );
      const marks: SpeechMark[] = sentences.map((text, i) => {
        const span = joined.spans[i] as { startSec: number; endSec: number };
        return { text, startSec: span.startSec, endSec: span.endSec };
      });
      // Word timings only when every sentence has them: a partial list would shift the captions.
      const allWords = spoken.every((s) => s.words !== undefined)
        ? spoken.flatMap((s, i) => {
            const offset = joined.spans[i]?.startSec ?? 0;
            return (s.words ?? []).map((w) => ({ text: w.text, startSec: round3(w.startSec + offset), endSec: round3(w.endSec + offset) }));
          })
        : undefined;
      return { data: joined.data, ext: 'wav', durationSec: joined.durationSec, marks, ...(allWords ? { words: allWords } : {}) };
    } catch (error) {
      throwIfCancelled(signal);
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      controller.abort(); // kills any espeak still running after a failure
    }
  }

  /**
   * The sentence's word timings, from a words-apart pass and espeak's own reading of each word
   * (how many spoken words a token makes: "1453" is three or four). A failure here only costs the
   * word timings, never the voice: the captions then fall back to estimated timing.
   */
  private async measureWords(voice: string, sentence: string, clip: Buffer, signal: AbortSignal): Promise<WordTiming[] | undefined> {
    const tokens = sentence.split(/\s+/).filter(Boolean);
    try {
      const rate = String(this.wordsPerMinute);
      const [gapped, tokenOut, sentenceOut] = await Promise.all([
        runEspeak(this.binary, ['-v', voice, '-s', rate, '-g', MEASURE_WORD_GAP, '--stdout'], sentence, signal),
        runEspeak(this.binary, ['-q', '-x', '-v', voice, '-s', rate], tokens.join('\n'), signal),
        runEspeak(this.binary, ['-q', '-x', '-v', voice, '-s', rate], sentence, signal),
      ]);
      const tokenPhonemes = parseTokenPhonemes(tokenOut.toString('utf8'), tokens.length);
      if (!tokenPhonemes) return undefined;
      const measured = wavSamples(gapped);
      const real = wavSamples(clip);
      return layoutWords({
        tokens,
        tokenPhonemes,
        sentencePhonemes: parseSentencePhonemes(sentenceOut.toString('utf8')),
        measured: soundRuns(measured.samples, measured.sampleRate, 0.02),
        samples: real.samples,
        sampleRate: real.sampleRate,
      });
    } catch {
      throwIfCancelled(signal);
      return undefined;
    }
  }
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

function runEspeak(binary: string, args: string[], text: string, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // No shell, and the text goes through stdin, so nothing in it can become an option.
    const child = spawn(binary, args, { env: childProcessEnv(), stdio: ['pipe', 'pipe', 'pipe'], signal, killSignal: 'SIGKILL' });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 2000) stderr += chunk.toString('utf8');
    });
    child.stdin.on('error', () => {
      // EPIPE when espeak exits early; the exit code or the 'error' event reports the real problem.
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (isAbortError(error)) reject(cancelled(undefined, { cause: error }));
      else if (error.code === 'ENOENT') {
        reject(
          new ReelforgeError(
            'missing_dependency',
            'espeak-ng is not installed. Install it with: sudo apt-get install -y espeak-ng (or run: npm run setup)',
            { cause: error },
          ),
        );
      } else reject(new ReelforgeError('provider_unavailable', 'The offline voice (espeak-ng) could not start.', { cause: error }));
    });
    child.on('close', (code, killSignal) => {
      if (code === 0) resolve(Buffer.concat(chunks));
      else {
        reject(
          new ReelforgeError('provider_unavailable', 'The offline voice (espeak-ng) failed.', {
            cause: new Error(`espeak-ng exited with ${code ?? killSignal}: ${stderr.trim().slice(0, 500)}`),
          }),
        );
      }
    });
    child.stdin.end(text, 'utf8');
  });
}
