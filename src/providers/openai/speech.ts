/**
 * Speech through `/v1/audio/speech` (tts-1, tts-1-hd, gpt-4o-mini-tts). WAV is asked for so the
 * length is known without probing; servers that refuse WAV get one more try as MP3 (length then
 * left to the pipeline's probe). Texts beyond the API's 4,096 characters go in sentence-aligned
 * parts, joined back into one WAV.
 */
import type { SpeechCreateParams } from 'openai/resources/audio/speech';
import { ReelforgeError } from '../../core/errors.js';
import type { SpeechProvider, SpeechRequest, SpeechResult } from '../../pipeline/ports.js';
import { isUnsupportedFieldError, withRetry, type OpenAiConnection } from './client.js';

export interface OpenAiSpeechOptions {
  model: string;
  voice: string;
  /** Style direction for models that take it (gpt-4o-mini-tts), e.g. "calm documentary narrator". */
  instructions?: string;
  speed?: number;
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

  async synthesize(request: SpeechRequest, signal?: AbortSignal): Promise<SpeechResult> {
    const text = request.text.trim();
    if (!text) throw new ReelforgeError('bad_input', 'There is no text to speak.', { params: { reason: 'empty_text' } });
    const parts = splitForSpeech(text, MAX_INPUT_CHARS);
    const audio: Buffer[] = [];
    for (const part of parts) audio.push(await this.speakPart(part, request.voice ?? this.options.voice, signal));
    if (this.format === 'mp3') return { data: Buffer.concat(audio), ext: 'mp3' };
    const wavs = audio.map(parseWav);
    const joined = joinWavs(wavs);
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

export interface WavInfo {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** The PCM bytes of the data chunk. */
  pcm: Buffer;
  /** The `fmt ` chunk's body, kept to write the file back. */
  fmt: Buffer;
}

/**
 * Reads a RIFF/WAVE file. Streamed WAV (OpenAI's among them) declares unknown sizes (0xFFFFFFFF);
 * the data chunk then runs to the end of the file.
 */
export function parseWav(data: Buffer): WavInfo {
  const bad = (): ReelforgeError =>
    new ReelforgeError('provider_unavailable', 'The speech provider sent audio we could not read.', {
      retryable: true,
      params: { provider: 'openai', what: 'speech' },
    });
  if (data.length < 12 || data.toString('ascii', 0, 4) !== 'RIFF' || data.toString('ascii', 8, 12) !== 'WAVE') throw bad();
  let offset = 12;
  let fmt: Buffer | undefined;
  while (offset + 8 <= data.length) {
    const id = data.toString('ascii', offset, offset + 4);
    const declared = data.readUInt32LE(offset + 4);
    const bodyStart = offset + 8;
    if (id === 'data') {
      if (!fmt) throw bad();
      const end = declared === 0xffffffff || bodyStart + declared > data.length ? data.length : bodyStart + declared;
      const channels = fmt.readUInt16LE(2);
      const sampleRate = fmt.readUInt32LE(4);
      const bitsPerSample = fmt.readUInt16LE(14);
      if (!channels || !sampleRate || !bitsPerSample) throw bad();
      return { sampleRate, channels, bitsPerSample, pcm: data.subarray(bodyStart, end), fmt };
    }
    if (id === 'fmt ') fmt = data.subarray(bodyStart, bodyStart + declared);
    offset = bodyStart + declared + (declared % 2);
  }
  throw bad();
}

export function wavDurationSec(info: WavInfo): number {
  const bytesPerFrame = info.channels * (info.bitsPerSample / 8);
  return Math.floor(info.pcm.length / bytesPerFrame) / info.sampleRate;
}

/** One WAV with correct sizes from parts of the same format. */
export function joinWavs(parts: WavInfo[]): { data: Buffer; durationSec: number } {
  const first = parts[0];
  if (!first) throw new ReelforgeError('internal', 'No audio to join.');
  const pcm = Buffer.concat(parts.map((p) => p.pcm));
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(4 + 8 + first.fmt.length + 8 + pcm.length, 4);
  header.write('WAVE', 8, 'ascii');
  const fmtHead = Buffer.alloc(8);
  fmtHead.write('fmt ', 0, 'ascii');
  fmtHead.writeUInt32LE(first.fmt.length, 4);
  const dataHead = Buffer.alloc(8);
  dataHead.write('data', 0, 'ascii');
  dataHead.writeUInt32LE(pcm.length, 4);
  return {
    data: Buffer.concat([header, fmtHead, first.fmt, dataHead, pcm]),
    durationSec: wavDurationSec({ ...first, pcm }),
  };
}
