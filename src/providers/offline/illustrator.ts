/**
 * Draft illustrations drawn locally with @napi-rs/canvas: a mood palette, a composition picked
 * from the prompt and the segment's place in the video, and the segment's key words as a big title.
 * They say plainly that they are drafts; no two segments of a video look alike.
 */
import { existsSync } from 'node:fs';
import { GlobalFonts, createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import { throwIfCancelled } from '../../core/errors.js';
import type { Mood } from '../../pipeline/model.js';
import type { ImageProvider, ImageRequest, ImageResult } from '../../pipeline/ports.js';
import { seededRandom, type Random } from './seeded-random.js';

const FONT_PATH = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';
const FONT_FAMILY = 'DejaVu Sans Bold';

let fontFamily: string | undefined;

/** Registers DejaVu Sans Bold once (it covers Latin, Cyrillic and Greek); skia's default otherwise. */
function titleFont(): string {
  if (fontFamily === undefined) {
    const registered = existsSync(FONT_PATH) && GlobalFonts.registerFromPath(FONT_PATH, FONT_FAMILY) !== null;
    fontFamily = registered ? `"${FONT_FAMILY}"` : 'sans-serif';
  }
  return fontFamily;
}

interface MoodLook {
  /** Hue range of the backdrop, in degrees. */
  hue: [number, number];
  saturation: number;
  /** Lightness of the sky top and the ground. */
  light: [number, number];
  /** Hue shift of the accent shapes. */
  accentShift: number;
  /** Hue shift from the top of the sky to the ground. */
  skyShift: number;
}

const LOOKS: Readonly<Record<Mood, MoodLook>> = {
  calm: { hue: [150, 230], saturation: 45, light: [72, 38], accentShift: 40, skyShift: 30 },
  epic: { hue: [5, 45], saturation: 70, light: [58, 20], accentShift: 190, skyShift: -45 },
  dark: { hue: [210, 290], saturation: 35, light: [28, 8], accentShift: 150, skyShift: 40 },
  upbeat: { hue: [20, 340], saturation: 80, light: [66, 42], accentShift: 120, skyShift: 40 },
  mysterious: { hue: [240, 300], saturation: 55, light: [34, 10], accentShift: 120, skyShift: 50 },
};

type Layer = (g: Scene) => void;

interface Scene {
  ctx: SKRSContext2D;
  w: number;
  h: number;
  r: Random;
  hue: number;
  look: MoodLook;
}

const hsl = (h: number, s: number, l: number, a = 1): string =>
  `hsla(${((h % 360) + 360) % 360}, ${Math.max(0, Math.min(100, s))}%, ${Math.max(0, Math.min(100, l))}%, ${a})`;

export interface OfflineIllustratorOptions {
  /** JPEG quality 0-100. */
  quality?: number;
  /** The small corner label. */
  label?: string;
}

export class OfflineIllustrator implements ImageProvider {
  readonly offline = true;
  readonly model = 'offline-illustrator';
  private readonly quality: number;
  private readonly label: string;

  constructor(options: OfflineIllustratorOptions = {}) {
    this.quality = options.quality ?? 88;
    this.label = options.label ?? 'draft illustration';
  }

  async generate(request: ImageRequest, signal?: AbortSignal): Promise<ImageResult> {
    throwIfCancelled(signal);
    const width = Math.max(16, Math.round(request.width || 1080));
    const height = Math.max(16, Math.round(request.height || 1920));
    const canvas = createCanvas(width, height);
    drawIllustration(canvas.getContext('2d'), width, height, request, this.label);
    const data = await canvas.encode('jpeg', this.quality);
    throwIfCancelled(signal);
    return { data, ext: 'jpg' };
  }
}

function drawIllustration(ctx: SKRSContext2D, w: number, h: number, request: ImageRequest, label: string): void {
  const total = Math.max(1, request.total);
  const index = Math.max(0, request.index);
  const r = seededRandom(`${request.prompt}|${request.index}|${request.total}|${request.mood}${request.take ? `|${request.take}` : ''}`);
  const look = LOOKS[request.mood];
  // The hue walks across the mood's range over the video, so neighbours never share a palette.
  const [from, to] = look.hue;
  const span = (to - from + 360) % 360 || 360;
  const hue = from + span * ((index + 0.5) / total) + r.range(-8, 8);
  const g: Scene = { ctx, w, h, r, hue, look };

  drawSky(g);
  // The main composition steps through every kind before repeating, starting at a seeded offset.
  const start = seededRandom(request.prompt.slice(0, 40) + String(total)).int(COMPOSITIONS.length);
  const main = COMPOSITIONS[(start + index) % COMPOSITIONS.length] as Layer;
  const extras = [stars, circles, rays, grid, waves].filter((layer) => layer !== main);
  if (request.mood === 'dark' || request.mood === 'mysterious') stars(g);
  r.pick(extras)(g);
  main(g);
  if (r.chance(0.6)) hills(g);
  vignette(g);
  drawTitle(g, request.keywords || request.prompt.split(/\s+/).slice(0, 3).join(' '));
  drawLabel(g, `${label} · ${index + 1}/${total}`);
}

function drawSky({ ctx, w, h, r, hue, look }: Scene): void {
  const angle = r.range(-0.5, 0.5);
  const gradient = ctx.createLinearGradient(w / 2 + Math.sin(angle) * h, 0, w / 2 - Math.sin(angle) * h, h);
  gradient.addColorStop(0, hsl(hue, look.saturation, look.light[0]));
  gradient.addColorStop(r.range(0.45, 0.7), hsl(hue + look.skyShift / 2, look.saturation + 10, (look.light[0] + look.light[1]) / 2));
  gradient.addColorStop(1, hsl(hue + look.skyShift, look.saturation, look.light[1]));
  ctx.fillStyle = gradient;
  ctx.fillRect(0, 0, w, h);
}

function hills({ ctx, w, h, r, hue, look }: Scene): void {
  const layers = 2 + r.int(3);
  for (let i = 0; i < layers; i++) {
    const base = h * (0.62 + (i * 0.32) / layers) + r.range(-0.03, 0.03) * h;
    const amplitude = h * r.range(0.03, 0.09);
    const waves = r.range(0.6, 2.2);
    const phase = r.range(0, Math.PI * 2);
    ctx.beginPath();
    ctx.moveTo(0, h);
    for (let x = 0; x <= w; x += Math.max(4, w / 60)) {
      ctx.lineTo(x, base - amplitude * Math.sin(phase + (x / w) * Math.PI * 2 * waves));
    }
    ctx.lineTo(w, h);
    ctx.closePath();
    // Ground layers stay in the sky's family, darker towards the viewer.
    ctx.fillStyle = hsl(hue + look.skyShift * (1 + i / layers), look.saturation - 10, look.light[1] - i * 4 + 8, 0.92);
    ctx.fill();
  }
}

function mountains({ ctx, w, h, r, hue, look }: Scene): void {
  for (let layer = 0; layer < 3; layer++) {
    const base = h * (0.58 + layer * 0.1);
    ctx.beginPath();
    ctx.moveTo(0, h);
    ctx.lineTo(0, base);
    let x = 0;
    while (x < w) {
      const step = w * r.range(0.12, 0.3);
      ctx.lineTo(x + step / 2, base - h * r.range(0.06, 0.22) / (layer + 1));
      x += step;
      ctx.lineTo(Math.min(w, x), base);
    }
    ctx.lineTo(w, h);
    ctx.closePath();
    ctx.fillStyle = hsl(hue + look.skyShift * (0.5 + layer * 0.4), look.saturation - 15, look.light[1] + 14 - layer * 7);
    ctx.fill();
  }
}

function sun({ ctx, w, h, r, hue, look }: Scene): void {
  const x = w * r.range(0.2, 0.8);
  const y = h * r.range(0.15, 0.55);
  const radius = Math.min(w, h) * r.range(0.12, 0.24);
  const glow = ctx.createRadialGradient(x, y, radius * 0.2, x, y, radius * 3);
  glow.addColorStop(0, hsl(hue + look.accentShift, 90, 75, 0.55));
  glow.addColorStop(1, hsl(hue + look.accentShift, 90, 75, 0));
  ctx.fillStyle = glow;
  ctx.fillRect(0, 0, w, h);
  ctx.beginPath();
  ctx.arc(x, y, radius, 0, Math.PI * 2);
  ctx.fillStyle = hsl(hue + look.accentShift, 85, Math.max(55, look.light[0] + 15));
  ctx.fill();
}

function rays({ ctx, w, h, r, hue, look }: Scene): void {
  const x = w * r.range(0.1, 0.9);
  const y = h * r.range(-0.1, 0.4);
  const count = 8 + r.int(10);
  const reach = Math.hypot(w, h);
  ctx.save();
  for (let i = 0; i < count; i++) {
    const a = (i / count) * Math.PI * 2 + r.range(0, 0.2);
    const width = r.range(0.04, 0.12);
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + Math.cos(a) * reach, y + Math.sin(a) * reach);
    ctx.lineTo(x + Math.cos(a + width) * reach, y + Math.sin(a + width) * reach);
    ctx.closePath();
    ctx.fillStyle = hsl(hue + look.accentShift, look.saturation + 20, 80, 0.1);
    ctx.fill();
  }
  ctx.restore();
}

function circles({ ctx, w, h, r, hue, look }: Scene): void {
  const count = 3 + r.int(6);
  for (let i = 0; i < count; i++) {
    ctx.beginPath();
    ctx.arc(w * r.next(), h * r.range(0.05, 0.9), Math.min(w, h) * r.range(0.05, 0.35), 0, Math.PI * 2);
    ctx.fillStyle = hsl(hue + r.range(-1, 1) * look.accentShift, look.saturation + 10, r.range(40, 80), r.range(0.08, 0.3));
    ctx.fill();
  }
}

function rings({ ctx, w, h, r, hue, look }: Scene): void {
  const x = w * r.range(0.3, 0.7);
  const y = h * r.range(0.3, 0.7);
  const count = 5 + r.int(6);
  const step = Math.min(w, h) * r.range(0.05, 0.1);
  ctx.lineWidth = Math.max(2, step * r.range(0.15, 0.4));
  for (let i = 1; i <= count; i++) {
    ctx.beginPath();
    ctx.arc(x, y, step * i, 0, Math.PI * 2);
    ctx.strokeStyle = hsl(hue + look.accentShift + i * 6, look.saturation + 15, 70, 0.5 - i * 0.035);
    ctx.stroke();
  }
}

function grid({ ctx, w, h, r, hue, look }: Scene): void {
  // A perspective floor: lines converge on a horizon point.
  const horizon = h * r.range(0.45, 0.6);
  const vx = w * r.range(0.3, 0.7);
  ctx.lineWidth = Math.max(1, w / 400);
  ctx.strokeStyle = hsl(hue + look.accentShift, 80, 70, 0.45);
  for (let i = -10; i <= 10; i++) {
    ctx.beginPath();
    ctx.moveTo(vx, horizon);
    ctx.lineTo(vx + i * w * 0.18, h);
    ctx.stroke();
  }
  for (let i = 1; i < 12; i++) {
    const y = horizon + (h - horizon) * Math.pow(i / 12, 2);
    ctx.beginPath();
    ctx.moveTo(0, y);
    ctx.lineTo(w, y);
    ctx.stroke();
  }
}

function waves({ ctx, w, h, r, hue, look }: Scene): void {
  const count = 4 + r.int(5);
  const top = h * r.range(0.5, 0.7);
  for (let i = 0; i < count; i++) {
    const y0 = top + ((h - top) * i) / count;
    const amplitude = h * r.range(0.01, 0.03);
    const length = w * r.range(0.3, 0.7);
    const phase = r.range(0, Math.PI * 2);
    ctx.beginPath();
    ctx.moveTo(0, h);
    for (let x = 0; x <= w; x += Math.max(4, w / 80)) ctx.lineTo(x, y0 + amplitude * Math.sin(phase + (x / length) * Math.PI * 2));
    ctx.lineTo(w, h);
    ctx.closePath();
    ctx.fillStyle = hsl(hue + look.skyShift + i * 5, look.saturation, look.light[1] + 20 - i * 3, 0.35);
    ctx.fill();
  }
}

function stripes({ ctx, w, h, r, hue, look }: Scene): void {
  const angle = r.range(-0.9, 0.9);
  const gap = Math.min(w, h) * r.range(0.06, 0.14);
  ctx.save();
  ctx.translate(w / 2, h / 2);
  ctx.rotate(angle);
  const reach = Math.hypot(w, h);
  for (let x = -reach; x < reach; x += gap * 2) {
    ctx.fillStyle = hsl(hue + look.accentShift, look.saturation, 70, r.range(0.05, 0.16));
    ctx.fillRect(x, -reach, gap * r.range(0.4, 1), reach * 2);
  }
  ctx.restore();
}

function shards({ ctx, w, h, r, hue, look }: Scene): void {
  const count = 4 + r.int(5);
  for (let i = 0; i < count; i++) {
    const cx = w * r.next();
    const cy = h * r.range(0.1, 0.85);
    const size = Math.min(w, h) * r.range(0.1, 0.4);
    ctx.beginPath();
    for (let k = 0; k < 3; k++) {
      const a = r.range(0, Math.PI * 2);
      ctx.lineTo(cx + Math.cos(a) * size, cy + Math.sin(a) * size);
    }
    ctx.closePath();
    ctx.fillStyle = hsl(hue + look.accentShift * r.range(0.5, 1.2), look.saturation + 10, r.range(35, 75), r.range(0.2, 0.45));
    ctx.fill();
  }
}

function stars({ ctx, w, h, r }: Scene): void {
  const count = 60 + r.int(80);
  ctx.fillStyle = 'rgba(255, 255, 255, 0.8)';
  for (let i = 0; i < count; i++) {
    const size = Math.max(1, (w / 540) * r.range(0.5, 2.2));
    ctx.fillRect(w * r.next(), h * r.range(0, 0.6), size, size);
  }
}

const COMPOSITIONS: readonly Layer[] = [sun, mountains, rings, grid, waves, stripes, shards, rays];

function vignette({ ctx, w, h }: Scene): void {
  const gradient = ctx.createRadialGradient(w / 2, h / 2, Math.min(w, h) * 0.35, w / 2, h / 2, Math.hypot(w, h) * 0.6);
  gradient.addColorStop(0, 'rgba(0, 0, 0, 0)');
  gradient.addColorStop(1, 'rgba(0, 0, 0, 0.45)');
  ctx.fillStyle = gradient;
  ctx.fillRect(0, 0, w, h);
}

/** Greedy word wrap; a word wider than the line is split by letters. */
function wrapText(ctx: SKRSContext2D, text: string, maxWidth: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const candidate = line ? `${line} ${word}` : word;
    if (ctx.measureText(candidate).width <= maxWidth) {
      line = candidate;
      continue;
    }
    if (line) lines.push(line);
    line = '';
    let piece = '';
    for (const ch of word) {
      if (piece && ctx.measureText(piece + ch).width > maxWidth) {
        lines.push(piece);
        piece = '';
      }
      piece += ch;
    }
    line = piece;
  }
  if (line) lines.push(line);
  return lines;
}

function drawTitle({ ctx, w, h }: Scene, keywords: string): void {
  const text = keywords.trim().toLocaleUpperCase();
  if (!text) return;
  const maxWidth = w * 0.82;
  const family = titleFont();
  let size = Math.round(Math.min(w, h) * 0.115);
  let lines: string[] = [];
  // Shrink until the title fits in four lines without breaking words, down to a readable floor.
  const words = text.split(/\s+/);
  for (; size >= Math.min(w, h) * 0.05; size = Math.floor(size * 0.9)) {
    ctx.font = `${size}px ${family}`;
    const brokeWord = words.some((word) => ctx.measureText(word).width > maxWidth);
    if (!brokeWord && wrapText(ctx, text, maxWidth).length <= 4) break;
  }
  ctx.font = `${size}px ${family}`;
  lines = wrapText(ctx, text, maxWidth).slice(0, 5);
  const lineHeight = size * 1.18;
  const blockHeight = lineHeight * lines.length;
  // Upper-middle: clear of the subtitles at the bottom and of most Ken Burns crops.
  const top = h * 0.36 - blockHeight / 2;
  const widest = Math.max(...lines.map((l) => ctx.measureText(l).width));
  const pad = size * 0.45;
  ctx.fillStyle = 'rgba(0, 0, 0, 0.42)';
  ctx.beginPath();
  ctx.roundRect(w / 2 - widest / 2 - pad, top - pad, widest + pad * 2, blockHeight + pad * 2, size * 0.3);
  ctx.fill();
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillStyle = '#ffffff';
  ctx.shadowColor = 'rgba(0, 0, 0, 0.6)';
  ctx.shadowBlur = size * 0.12;
  lines.forEach((line, i) => ctx.fillText(line, w / 2, top + lineHeight * (i + 0.5)));
  ctx.shadowBlur = 0;
  ctx.shadowColor = 'rgba(0, 0, 0, 0)';
}

function drawLabel({ ctx, w, h }: Scene, label: string): void {
  const size = Math.max(10, Math.round(Math.min(w, h) * 0.03));
  ctx.font = `${size}px ${titleFont()}`;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'top';
  const x = size;
  const y = size * 1.2;
  const width = ctx.measureText(label).width;
  ctx.fillStyle = 'rgba(0, 0, 0, 0.45)';
  ctx.fillRect(x - size * 0.4, y - size * 0.3, width + size * 0.8, size * 1.6);
  ctx.fillStyle = 'rgba(255, 255, 255, 0.9)';
  ctx.fillText(label, x, y);
}
