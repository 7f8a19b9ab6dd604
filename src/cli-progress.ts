/**
 * The CLI's progress display on stderr: one redrawn line on a terminal, one line per change
 * otherwise (CI logs, pipes), so stdout stays free for `--json`.
 */
import { applyProgress, emptySnapshot, progressFraction, STAGES, type ProgressEvent, type ProgressSnapshot } from './core/progress.js';

export interface ProgressPrinter {
  onEvent(event: ProgressEvent): void;
  finish(): void;
}

const LABELS: Record<(typeof STAGES)[number], string> = {
  script: 'script',
  images: 'images',
  voice: 'voice',
  music: 'music',
  render: 'render',
  upload: 'upload',
};

export function describeSnapshot(snapshot: ProgressSnapshot): string {
  const parts: string[] = [];
  for (const stage of STAGES) {
    const s = snapshot.stages[stage];
    if (s.status === 'pending' || stage === 'upload') continue;
    const mark = s.status === 'done' ? '✓' : s.status === 'skipped' ? '-' : '…';
    const counts = s.total ? ` ${s.done ?? 0}/${s.total}` : '';
    parts.push(`${LABELS[stage]}${counts} ${mark}`);
  }
  return parts.join('  ');
}

export function bar(fraction: number, width = 24): string {
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}%`;
}

export function createProgressPrinter(stream: NodeJS.WriteStream = process.stderr): ProgressPrinter {
  let snapshot = emptySnapshot();
  let lastLine = '';
  const tty = stream.isTTY;
  return {
    onEvent(event) {
      snapshot = applyProgress(snapshot, event);
      if (event.type === 'started' && event.offline) {
        stream.write('No OPENAI_API_KEY or OPENAI_BASE_URL: using offline providers (a draft script, drawn pictures, espeak-ng voice).\n');
      }
      if (event.type === 'title') stream.write(`Title: ${event.title}\n`);
      const line = `${bar(progressFraction(snapshot))} ${describeSnapshot(snapshot)}`;
      if (line === lastLine) return;
      lastLine = line;
      if (tty) stream.write(`\r\x1b[2K${line}`);
      else if (event.type !== 'count' || event.done === event.total) stream.write(`${line}\n`);
    },
    finish() {
      if (tty && lastLine) stream.write('\n');
    },
  };
}
