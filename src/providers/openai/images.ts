/**
 * Images through `/v1/images/generations`, in the shape each model family expects:
 * gpt-image-1 (and -mini): portrait/landscape/square sizes, low/medium/high quality, always base64;
 * dall-e-3: 1024x1792-style sizes, standard/hd, base64 or a URL we then fetch;
 * dall-e-2 and unknown models on compatible servers: square sizes, base64 asked for, URL accepted.
 */
import type { ImageGenerateParamsNonStreaming } from 'openai/resources/images';
import { ReelforgeError } from '../../core/errors.js';
import type { ImageProvider, ImageRequest, ImageResult } from '../../pipeline/ports.js';
import { withRetry, type OpenAiConnection } from './client.js';

export type ImageQuality = 'low' | 'medium' | 'high' | 'standard' | 'hd' | 'auto';

export interface OpenAiImagesOptions {
  model: string;
  quality?: ImageQuality;
}

type Family = 'gpt-image' | 'dall-e-3' | 'dall-e-2' | 'other';

export function imageFamily(model: string): Family {
  if (model.startsWith('gpt-image')) return 'gpt-image';
  if (model === 'dall-e-3') return 'dall-e-3';
  if (model === 'dall-e-2') return 'dall-e-2';
  return 'other';
}

/** The API size nearest the wanted aspect for the model. */
export function imageSizeFor(model: string, width: number, height: number): string {
  const ratio = width / height;
  const shape = ratio < 0.85 ? 'portrait' : ratio > 1.18 ? 'landscape' : 'square';
  switch (imageFamily(model)) {
    case 'gpt-image':
    case 'other':
      return { portrait: '1024x1536', landscape: '1536x1024', square: '1024x1024' }[shape];
    case 'dall-e-3':
      return { portrait: '1024x1792', landscape: '1792x1024', square: '1024x1024' }[shape];
    case 'dall-e-2':
      return '1024x1024';
  }
}

/** Our quality setting in each family's words. */
export function imageQualityFor(model: string, quality: ImageQuality): string | undefined {
  const family = imageFamily(model);
  if (family === 'gpt-image') return { low: 'low', medium: 'medium', high: 'high', standard: 'medium', hd: 'high', auto: 'auto' }[quality];
  if (family === 'dall-e-3') return quality === 'high' || quality === 'hd' ? 'hd' : 'standard';
  return undefined;
}

const PROMPT_LIMIT: Record<Family, number> = { 'gpt-image': 32_000, 'dall-e-3': 4_000, 'dall-e-2': 1_000, other: 4_000 };

/** The style / visual bible first (a stable prefix), then the scene; cut to the model's limit. */
export function composeImagePrompt(request: Pick<ImageRequest, 'prompt' | 'style'>, model: string): string {
  const style = request.style.trim();
  const text = style ? `${style.replace(/[.\s]+$/, '')}. ${request.prompt.trim()}` : request.prompt.trim();
  return text.slice(0, PROMPT_LIMIT[imageFamily(model)]);
}

export class OpenAiImages implements ImageProvider {
  readonly offline = false;
  readonly model: string;
  private readonly quality: ImageQuality;

  constructor(
    private readonly connection: OpenAiConnection,
    options: OpenAiImagesOptions,
  ) {
    this.model = options.model;
    this.quality = options.quality ?? 'low';
  }

  async generate(request: ImageRequest, signal?: AbortSignal): Promise<ImageResult> {
    const family = imageFamily(this.model);
    const quality = imageQualityFor(this.model, this.quality);
    const params: ImageGenerateParamsNonStreaming = {
      model: this.model,
      prompt: composeImagePrompt(request, this.model),
      n: 1,
      size: imageSizeFor(this.model, request.width, request.height),
      ...(quality ? { quality: quality as ImageGenerateParamsNonStreaming['quality'] } : {}),
      // gpt-image always answers in base64 and rejects response_format; JPEG is ~10x smaller than PNG.
      ...(family === 'gpt-image' ? { output_format: 'jpeg' as const } : { response_format: 'b64_json' as const }),
    };
    return withRetry(
      this.connection,
      'image',
      async () => {
        const response = await this.connection.sdk.images.generate(params, {
          ...(signal ? { signal } : {}),
        });
        const item = response.data?.[0];
        let data: Buffer | undefined;
        if (item?.b64_json) data = Buffer.from(item.b64_json, 'base64');
        else if (item?.url) data = await this.download(item.url, signal);
        if (!data || data.length === 0) {
          throw new ReelforgeError('provider_unavailable', 'The image provider answered without an image.', {
            retryable: true,
            params: { provider: 'openai', what: 'image' },
          });
        }
        return { data, ext: sniffImage(data) };
      },
      signal,
    );
  }

  private async download(url: string, signal?: AbortSignal): Promise<Buffer> {
    const timeout = AbortSignal.timeout(this.connection.requestTimeoutMs);
    const response = await this.connection.fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout }).catch((error: unknown) => {
      if (error instanceof ReelforgeError) throw error;
      throw new ReelforgeError('provider_unavailable', 'The generated image could not be downloaded.', {
        retryable: true,
        cause: new Error(this.connection.redact(error instanceof Error ? error.message : String(error))),
        params: { provider: 'openai', what: 'image' },
      });
    });
    if (!response.ok) {
      throw new ReelforgeError('provider_unavailable', `The generated image could not be downloaded (HTTP ${response.status}).`, {
        retryable: response.status >= 500 || response.status === 429,
        params: { provider: 'openai', what: 'image', status: response.status },
      });
    }
    // A body that stalls fails with the connection's deadline error (retryable).
    return Buffer.from(await response.arrayBuffer());
  }
}

/** The format from the first bytes: servers differ in what they send, whatever was asked. */
export function sniffImage(data: Buffer): ImageResult['ext'] {
  if (data[0] === 0x89 && data.toString('ascii', 1, 4) === 'PNG') return 'png';
  if (data[0] === 0xff && data[1] === 0xd8) return 'jpg';
  if (data.toString('ascii', 0, 4) === 'RIFF' && data.toString('ascii', 8, 12) === 'WEBP') return 'webp';
  // Garbled bytes are a bad answer, not a bad request: asked for again like a 500.
  throw new ReelforgeError('provider_unavailable', 'The image provider sent something that is not a picture.', {
    retryable: true,
    params: { provider: 'openai', what: 'image' },
  });
}
