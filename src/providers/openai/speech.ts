/**
 * Speech through `/v1/audio/speech` (tts-1, tts-1-hd, gpt-4o-mini-tts). WAV is asked for so the
 * length is known without probing; servers that refuse WAV get one more try as MP3 (length then
 * left to the pipeline's probe). Texts beyond the API's 4,096 characters go in sentence-aligned
 * parts, joined back into one WAV.
 */
import type { SpeechCreateParams } from 'openai/resources/audio/speech';
import { ReelforgeError } from '../../core/errors.js';
import type { SpeechProvider, SpeechRequest, SpeechResult } from '../../pipeline/ports.js';
import { WORDS_PER_SECOND } from '../../pipeline/segmenting.js';
import { concatWav } from '../wav.js';
import { isUnsupportedFieldError, withRetry, type OpenAiConnection } from './client.js';

export interface OpenAiSpeechOptions {
  model: string;
  voice: string;
  /** Style direction for models that take it (gpt-4o-mini-tts), e.g. "calm documentary narrator". */
  instructions?: string;
  speed?: number;
  /** The voice's speaking rate in words a second (OpenAI's voices: ~2.5 at speed 1), to size the narration. */
  wordsPerSecond?: number;
}

const MAX_INPUT_CHARS = 4_000;

export class OpenAiSpeech implements SpeechProvider {
  readonly offline = false;
  readonly model: string;
  private format: 'wav' | 'mp3' = 'wav';

  constructor(
    private readonly connection: OpenAiConnection,
    private readonly options: OpenAiSpeechOptions,
  ) {
    this.model = options.model;
  }

  wordsPerSecond(): number {
    return (this.options.wordsPerSecond ?? WORDS_PER_SECOND) * (this.options.speed ?? 1);
  }

  async synthesize(request: SpeechRequest, signal?: AbortSignal): Promise<SpeechResult> {
    const text = request.text.trim();
    if (!text) throw new ReelforgeError('bad_input', 'There is no text to speak.', { params: { reason: 'empty_text' } });
    const parts = splitForSpeech(text, MAX_INPUT_CHARS);
    const audio: Buffer[] = [];
    for (const part of parts) audio.push(await this.speakPart(part, request.voice ?? this.options.voice, signal));
    if (this.format === 'mp3') return { data: Buffer.concat(audio), ext: 'mp3' };
    const joined = joinSpeech(audio);
    return { data: joined.data, ext: 'wav', durationSec: joined.durationSec };
  }

  private speakPart(input: string, voice: string, signal?: AbortSignal): Promise<Buffer> {
    return withRetry(
      this.connection,
      'speech',
      async () => {
        try {
          return await this.request(input, voice, signal);
        } catch (error) {
          if (this.format === 'wav' && isUnsupportedFieldError(error, 'response_format')) {
            this.format = 'mp3';
            return await this.request(input, voice, signal);
          }
          throw error;
        }
      },
      signal,
    );
  }

  private async request(input: string, voice: string, signal?: AbortSignal): Promise<Buffer> {
    const params: SpeechCreateParams = {
      model: this.model,
      voice,
      input,
      response_format: this.format,
      ...(this.options.speed ? { speed: this.options.speed } : {}),
      // tts-1 rejects instructions; only the gpt-4o family takes them.
      ...(this.options.instructions && this.model.startsWith('gpt-') ? { instructions: this.options.instructions } : {}),
    };
    const response = await this.connection.sdk.audio.speech.create(params, signal ? { signal } : {});
    return Buffer.from(await response.arrayBuffer());
  }
}

/** Splits at sentence ends (then at spaces) so no part exceeds `max` characters. */
export function splitForSpeech(text: string, max: number): string[] {
  if (text.length <= max) return [text];
  const sentences = text.match(/[^.!?…。]+[.!?…。]*\s*/gu) ?? [text];
  const parts: string[] = [];
  let current = '';
  for (const sentence of sentences) {
    if ((current + sentence).length > max && current) {
      parts.push(current.trim());
      current = '';
    }
    let rest = sentence;
    while (rest.length > max) {
      const cut = rest.lastIndexOf(' ', max) > 0 ? rest.lastIndexOf(' ', max) : max;
      parts.push(rest.slice(0, cut).trim());
      rest = rest.slice(cut);
    }
    current += rest;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

/** The parts' WAVs as one; audio we cannot read is the provider's fault, worth another try. */
function joinSpeech(parts: Buffer[]): { data: Buffer; durationSec: number } {
  try {
    return concatWav(parts);
  } catch (error) {
    throw new ReelforgeError('provider_unavailable', 'The speech provider sent audio we could not read.', {
      retryable: true,
      cause: error,
      params: { provider: 'openai', what: 'speech' },
    });
  }
}
