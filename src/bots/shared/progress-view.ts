/**
 * Draws a ProgressSnapshot as plain-text lines for a chat message: place in line while waiting,
 * then one line per stage with ✅ / ⏳ / ▫️, counts, and a text progress bar.
 */
import { STAGES, progressFraction, type ProgressSnapshot, type StageProgress } from '../../core/progress.js';
import { botTexts } from './i18n.js';

const STATUS_ICON: Record<StageProgress['status'], string> = { done: '✅', running: '⏳', pending: '▫️', skipped: '➖' };

/** `progressBar(0.45)` → "▰▰▰▰▱▱▱▱▱▱ 45%". */
export function progressBar(fraction: number, width = 10): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.round(clamped * width);
  return `${'▰'.repeat(filled)}${'▱'.repeat(width - filled)} ${Math.round(clamped * 100)}%`;
}

export function progressLines(snapshot: ProgressSnapshot, locale: string | undefined): string[] {
  const t = botTexts(locale);
  if (!snapshot.running) {
    if (snapshot.position !== undefined) return [t.queued(snapshot.position, snapshot.etaSec ?? 0)];
    return [t.accepted];
  }
  const lines: string[] = [];
  if (snapshot.title) lines.push(`🎬 ${snapshot.title}`);
  for (const stage of STAGES) {
    const s = snapshot.stages[stage];
    let line = `${STATUS_ICON[s.status]} ${t.stage(stage)}`;
    if (s.total !== undefined && s.total > 0 && s.status !== 'skipped') line += ` ${s.done ?? 0}/${s.total}`;
    if (s.note === 'shrinking') line += ` (${t.shrinking})`;
    else if (s.note) line += ` (${s.note})`;
    lines.push(line);
  }
  lines.push(progressBar(progressFraction(snapshot)));
  if (snapshot.offline) lines.push(t.offlineDraft);
  return lines;
}

export function progressText(snapshot: ProgressSnapshot, locale: string | undefined): string {
  return progressLines(snapshot, locale).join('\n');
}
