/** Quality tiers: the design notes' "smart defaults", chosen from the duration unless overridden. */
export const TIERS = ['ultra_fast', 'balanced', 'quality'] as const;
export type Tier = (typeof TIERS)[number];

export interface TierProfile {
  tier: Tier;
  /** Characters' looks and the art style, reused in every image prompt. */
  visualBible: 'off' | 'on_request' | 'on';
  /** Dedup of image prompts: never, only when local similarity flags a pair, or always checked. */
  dedup: 'off' | 'when_similar' | 'always';
  /** How much context analysis the script call asks for. */
  context: 'light' | 'standard' | 'full';
  /** x264 preset and frame rate for the render. */
  x264Preset: 'ultrafast' | 'superfast' | 'veryfast' | 'faster' | 'fast' | 'medium';
  fps: number;
}

/** x264 `veryfast` on every tier (bench/README.md): `superfast` and `ultrafast` save CPU but make
 * files 3-9x larger at the same CRF. ultra_fast renders 25 fps, a sixth fewer frames; slow Ken
 * Burns motion stays smooth at that rate. */
export const TIER_PROFILES: Readonly<Record<Tier, TierProfile>> = {
  ultra_fast: { tier: 'ultra_fast', visualBible: 'off', dedup: 'off', context: 'light', x264Preset: 'veryfast', fps: 25 },
  balanced: { tier: 'balanced', visualBible: 'on_request', dedup: 'when_similar', context: 'standard', x264Preset: 'veryfast', fps: 30 },
  quality: { tier: 'quality', visualBible: 'on', dedup: 'always', context: 'full', x264Preset: 'veryfast', fps: 30 },
};

export function tierForDuration(durationSec: number): Tier {
  if (durationSec <= 30) return 'ultra_fast';
  if (durationSec <= 60) return 'balanced';
  return 'quality';
}

export function isTier(value: string): value is Tier {
  return (TIERS as readonly string[]).includes(value);
}
