/** Caption presets a creator picks per video (`--captions <style>`, a Discord option, a chat default). */
export const CAPTION_STYLES = ['clean', 'karaoke', 'pop'] as const;
export type CaptionStyle = (typeof CAPTION_STYLES)[number];

/** Pages of a few words with the spoken word highlighted: what short-video viewers expect. */
export const DEFAULT_CAPTION_STYLE: CaptionStyle = 'karaoke';

export const CAPTION_STYLE_NAMES: Readonly<Record<CaptionStyle, string>> = {
  clean: 'clean phrases',
  karaoke: 'karaoke (spoken word highlighted)',
  pop: 'bold pop (uppercase, key word in colour)',
};

export function isCaptionStyle(value: unknown): value is CaptionStyle {
  return typeof value === 'string' && (CAPTION_STYLES as readonly string[]).includes(value);
}
