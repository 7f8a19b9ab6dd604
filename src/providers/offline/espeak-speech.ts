/**
 * Offline narration through the Debian `espeak-ng` program. espeak-ng is GPL-3.0, so it runs as a
 * separate process and is never linked in. The CLI reports no word timings, so each sentence is a
 * call of its own (measured: 12 sentences in ~0.5 s) and the joined clip gives exact sentence marks.
 */
import { spawn } from 'node:child_process';
import { childProcessEnv } from '../../config.js';
import { ReelforgeError, isAbortError, throwIfCancelled, cancelled } from '../../core/errors.js';
import { splitSentences } from '../../pipeline/segmenting.js';
import type { SpeechMark, SpeechProvider, SpeechRequest, SpeechResult } from '../../pipeline/ports.js';
import { concatWav } from '../wav.js';

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
}

export class EspeakSpeech implements SpeechProvider {
  readonly offline = true;
  readonly model = 'espeak-ng';
  private readonly binary: string;
  private readonly wordsPerMinute: number;
  private readonly concurrency: number;
  private readonly gapSec: number;

  constructor(options: EspeakSpeechOptions = {}) {
    this.binary = options.binary ?? 'espeak-ng';
    this.wordsPerMinute = options.wordsPerMinute ?? 165;
    this.concurrency = Math.max(1, options.concurrency ?? 2);
    this.gapSec = options.gapSec ?? 0.12;
  }

  async synthesize(request: SpeechRequest, signal?: AbortSignal): Promise<SpeechResult> {
    throwIfCancelled(signal);
    const sentences = splitSentences(stripMarkup(request.text)).filter((s) => /[\p{L}\p{N}]/u.test(s));
    if (sentences.length === 0) throw new ReelforgeError('bad_input', 'There is no text to speak.');
    const args = ['-v', chooseVoice(request), '-s', String(this.wordsPerMinute), '--stdout'];

    // One controller for this call: a failed sentence stops its siblings, and so does the caller's signal.
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const clips = await mapBounded(sentences, this.concurrency, controller, (sentence) =>
        runEspeak(this.binary, args, sentence, controller.signal),
      );
      const joined = concatWav(clips, this.gapSec);
      const marks: SpeechMark[] = sentences.map((text, i) => {
        const span = joined.spans[i] as { startSec: number; endSec: number };
        return { text, startSec: span.startSec, endSec: span.endSec };
      });
      return { data: joined.data, ext: 'wav', durationSec: joined.durationSec, marks };
    } catch (error) {
      throwIfCancelled(signal);
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      controller.abort(); // kills any espeak still running after a failure
    }
  }
}

async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  controller: AbortController,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !controller.signal.aborted) {
      const i = next++;
      try {
        results[i] = await work(items[i] as T);
      } catch (error) {
        controller.abort(error);
        throw error;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  // The first failure is the cause; the others are siblings killed because of it.
  if (failure) throw controller.signal.reason instanceof Error ? controller.signal.reason : failure.reason;
  if (controller.signal.aborted) throw cancelled();
  return results;
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
